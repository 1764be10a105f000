using System.Text.Json;
using DeskSync.Core;
using DeskSync.Sinks.Files;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Loading;

/// <summary>The helpers the full-load tests share: row counts, verification, sinks that fail or stall, progress recorders.</summary>
public sealed partial class FullLoadBehaviourTests
{
    private static async Task<List<string>> IdsAsync(string file, FileFormat format)
    {
        var lines = await File.ReadAllLinesAsync(file);
        if (format == FileFormat.Jsonl)
        {
            return [.. lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").ToString())];
        }

        // Records span lines when a value holds a newline; ids are the second field of lines starting with the op.
        return [.. lines.Skip(1).Where(l => l.StartsWith("r,", StringComparison.Ordinal)).Select(l => l.Split(',')[1])];
    }

    private static async Task<long> Count(string path, string table)
    {
        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM \"{table}\"";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The SQLite file at <paramref name="path"/> holds, in flat mode, exactly what the emulator holds for these tables.</summary>
    private static async Task VerifyFlatAsync(string path, TestPortal portal, IEnumerable<DeskStream> tables)
    {
        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, portal.Emulator, SinkMode.Flat, tables);
    }

    /// <summary>Finishes an interrupted load into the JSONL change log in <paramref name="dir"/>, then checks that it holds every ticket exactly once.</summary>
    private static async Task ResumeAndCheckEveryTicketLoggedOnceAsync(TestPortal portal, string dir)
    {
        await using (var sink = new FileSink(dir, FileFormat.Jsonl, SinkMode.Document))
        {
            var result = await new FullLoad(await portal.ConnectAsync(), sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, CancellationToken.None);
            Assert.Equal(TableLoadStatus.Loaded, result.Single().Status);
        }

        var ids = await IdsAsync(Path.Combine(dir, "tickets.jsonl"), FileFormat.Jsonl);
        var twice = ids.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(twice.Count == 0, $"{twice.Count} tickets were written twice, e.g. {string.Join(", ", twice.Take(3))}");
        Assert.Equal(portal.Emulator.Portal.List("tickets").Select(t => t["id"]!.GetValue<string>()).Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
    }

    /// <summary>A sink whose writes into one table fail; it counts the contacts written.</summary>
    private sealed class FailingOn(string table, ISink inner) : DelegatingSink(inner)
    {
        public int ContactRows;

        public override async Task ApplyAsync(TableSchema schema, IReadOnlyList<ChangeEvent> events, Checkpoint? checkpoint, CancellationToken cancellationToken)
        {
            if (schema.Name == table)
            {
                throw new SinkException($"cannot write {table}", null, retryable: false);
            }

            await Inner.ApplyAsync(schema, events, checkpoint, cancellationToken);
            Interlocked.Add(ref ContactRows, schema.Name == "contacts" ? events.Count : 0);
        }
    }

    /// <summary>A sink whose commits each take a while; it records how many rows each one held.</summary>
    private sealed class SlowCommits(ISink inner, TimeSpan delay, List<int> commits) : DelegatingSink(inner)
    {
        public override async Task ApplyAsync(TableSchema schema, IReadOnlyList<ChangeEvent> events, Checkpoint? checkpoint, CancellationToken cancellationToken)
        {
            await Task.Delay(delay, CancellationToken.None);
            await Inner.ApplyAsync(schema, events, checkpoint, cancellationToken);
            lock (commits)
            {
                commits.Add(events.Count);
            }
        }
    }

    /// <summary>A clock that moves only when told to.</summary>
    private sealed class StandingClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Notes how many rows the first batch written held.</summary>
    private sealed class FirstBatch : IFullLoadProgress
    {
        public long Rows { get; private set; } = -1;

        public void TableStarted(DeskStream t)
        {
        }

        public void RowsWritten(DeskStream t, long rowsSoFar, long? total, long calls, long credits)
        {
            if (Rows < 0)
            {
                Rows = rowsSoFar;
            }
        }

        public void TableFinished(TableLoadResult result)
        {
        }

        public void Warning(string message)
        {
        }
    }

    /// <summary>
    /// A client without retries beyond one, on a portal that answers the field definitions and the
    /// oldest and newest page, then 500s to every call after them (100 of them).
    /// </summary>
    private static async Task<DeskSync.ZohoDesk.Api.DeskClient> FailingAfterTheOpeningAsync(TestPortal portal)
    {
        var client = await portal.ConnectAsync(TestPortal.FastRetries(portal.Emulator.Portal.OrgId) with { MaxRetryAttempts = 1 });
        portal.Emulator.Faults.Enqueue(new DeskSync.Emulator.Desk.ScriptedFault(DeskSync.Emulator.Desk.FaultKind.None), times: 3);
        portal.Emulator.Faults.Enqueue(new DeskSync.Emulator.Desk.ScriptedFault(DeskSync.Emulator.Desk.FaultKind.ServerError), times: 100);
        return client;
    }

    /// <summary>A sink whose tables take as long as <paramref name="wait"/> to be made ready.</summary>
    private sealed class SlowTableSink(ISink inner, Func<Task> wait) : DelegatingSink(inner)
    {
        public override async Task<SchemaChanges> EnsureTableAsync(TableSchema schema, CancellationToken cancellationToken)
        {
            await wait();
            return await base.EnsureTableAsync(schema, cancellationToken);
        }
    }

    private sealed class Recorder : IFullLoadProgress
    {
        public List<string> Warnings { get; } = [];

        public void TableStarted(DeskStream table)
        {
        }

        public void RowsWritten(DeskStream table, long rowsSoFar, long? total, long calls, long credits)
        {
        }

        public void TableFinished(TableLoadResult result)
        {
        }

        public void Warning(string message) => Warnings.Add(message);
    }
}
