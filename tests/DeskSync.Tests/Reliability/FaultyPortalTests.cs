using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Emulator.Desk;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Reliability;

/// <summary>A full load through 500s, dropped connections, answers cut or stalled halfway, 429 bursts, a credit pause and a revoked token ends exact.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
[RunsLong]
public sealed class FaultyPortalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-faults-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_full_load_through_every_kind_of_fault_ends_exactly_equal_to_the_portal()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 1_500, Contacts = 400 }, Seed = 77, DailyCredits = 10_000_000 });
        var client = await portal.ConnectAsync(TestPortal.FastRetries(portal.Emulator.Portal.OrgId) with { MaxRetryAttempts = 12, AttemptTimeout = TimeSpan.FromSeconds(2) });
        var faults = portal.Emulator.Faults;
        faults.ErrorRate = 0.10;
        faults.DropRate = 0.05;
        faults.Enqueue(new ScriptedFault(FaultKind.TooManyRequests), times: 5);
        faults.Enqueue(new ScriptedFault(FaultKind.ThresholdExceeded, RetryAfterSeconds: 1), times: 2);
        faults.Enqueue(new ScriptedFault(FaultKind.CutBody), times: 2);
        faults.Enqueue(new ScriptedFault(FaultKind.StallBody));
        var path = Path.Combine(_dir, "faults.db");
        var revoker = new RevokeMidway(portal.Emulator, afterRows: 600);

        await using (var sink = new SqliteSink(path, SinkMode.Flat))
        {
            var results = await new FullLoad(client, sink, new SnapshotOptions()).RunAsync(DeskStreams.All, revoker, CancellationToken.None);
            Assert.All(results, r => Assert.Equal(TableLoadStatus.Loaded, r.Status));
        }

        Assert.True(revoker.Revoked, "the access token was revoked midway");
        Assert.True(portal.Emulator.Api.Calls.GetValueOrDefault("error:INTERNAL_SERVER_ERROR") > 5);
        Assert.True(portal.Emulator.Api.Calls.GetValueOrDefault("fault:drop") > 2);
        Assert.True(portal.Emulator.Api.Calls.ContainsKey("error:INVALID_OAUTH"));
        Assert.True(portal.Emulator.Api.Calls.ContainsKey("error:THRESHOLD_EXCEEDED"));
        Assert.Equal(2, portal.Emulator.Api.Calls.GetValueOrDefault("fault:CutBody"));
        Assert.Equal(1, portal.Emulator.Api.Calls.GetValueOrDefault("fault:StallBody"));
        faults.Clear();
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, portal.Emulator, SinkMode.Flat, DeskStreams.All);
    }

    [Fact]
    public async Task A_load_that_runs_out_of_retries_stops_with_a_clear_error_and_resumes_exactly()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 3_000 } });
        var path = Path.Combine(_dir, "outage.db");
        var outage = new OutageAfter(portal.Emulator, afterRows: 600);
        await using (var sink = new SqliteSink(path, SinkMode.Document))
        {
            var client = await portal.ConnectAsync(TestPortal.FastRetries(portal.Emulator.Portal.OrgId) with { MaxRetryAttempts = 2 });
            var ex = await Assert.ThrowsAsync<DeskSync.ZohoDesk.Api.ZohoApiException>(() => new FullLoad(client, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], outage, CancellationToken.None));
            Assert.True(ex.IsTransient);
            Assert.Contains("HTTP 500", ex.Message, StringComparison.Ordinal);
        }

        portal.Emulator.Faults.Clear();
        await using (var sink = new SqliteSink(path, SinkMode.Document))
        {
            var resumed = await new FullLoad(await portal.ConnectAsync(), sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, CancellationToken.None);
            Assert.Equal(TableLoadStatus.Loaded, resumed.Single().Status);
        }

        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, portal.Emulator, SinkMode.Document, [DeskStreams.Tickets]);
    }

    private sealed class RevokeMidway(ZohoDeskEmulator emulator, long afterRows) : IFullLoadProgress
    {
        public bool Revoked { get; private set; }

        public void TableStarted(DeskStream table)
        {
        }

        public void RowsWritten(DeskStream table, long rowsSoFar, long? total, long calls, long credits)
        {
            if (!Revoked && table == DeskStreams.Tickets && rowsSoFar >= afterRows)
            {
                emulator.OAuth.RevokeAllAccessTokens();
                Revoked = true;
            }
        }

        public void TableFinished(TableLoadResult result)
        {
        }

        public void Warning(string message)
        {
        }
    }

    private sealed class OutageAfter(ZohoDeskEmulator emulator, long afterRows) : IFullLoadProgress
    {
        public void TableStarted(DeskStream table)
        {
        }

        public void RowsWritten(DeskStream table, long rowsSoFar, long? total, long calls, long credits)
        {
            if (rowsSoFar >= afterRows)
            {
                emulator.Faults.ErrorRate = 1.0;
            }
        }

        public void TableFinished(TableLoadResult result)
        {
        }

        public void Warning(string message)
        {
        }
    }
}
