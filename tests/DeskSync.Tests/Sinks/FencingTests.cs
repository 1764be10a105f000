using DeskSync.Core;
using DeskSync.Core.Locking;
using DeskSync.Sinks.Postgres;
using DeskSync.Sinks.Sql;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Sinks;

/// <summary>
/// A target claimed with a later lease term refuses the writes of the process holding an earlier
/// one (it lost the lease without knowing yet): what that process wrote before the claim is what
/// the new holder reads, nothing of it after.
/// </summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class FencingTests(PostgresServer postgres) : IDisposable, IClassFixture<PostgresServer>
{
    private static readonly TableSchema Schema = new("tickets",
    [
        new ColumnSchema("id", ColumnType.Text, ["id"]),
        new ColumnSchema("subject", ColumnType.Text, ["subject"]),
        new ColumnSchema("modified_time", ColumnType.Timestamp, ["modifiedTime"]),
    ]);

    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-fence-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Targets => new() { "sqlite", "postgres" };

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task A_later_term_fences_the_earlier_holder_out(string target)
    {
        var (first, second) = TwoProcesses(target);
        await using (first)
        await using (second)
        {
            await first.ClaimAsync(Term(1, "first"), default);
            await first.ApplyAsync(Schema, [Row("1", "by first")], Checkpoint(1), default);

            await second.ClaimAsync(Term(2, "second"), default);
            var refused = await Assert.ThrowsAsync<SinkException>(() => first.ApplyAsync(Schema, [Row("2", "by first, too late")], Checkpoint(2), default));
            Assert.True(refused.Fenced);
            Assert.False(refused.Retryable);
            Assert.Contains("second", refused.Message, StringComparison.Ordinal);
            Assert.True((await Assert.ThrowsAsync<SinkException>(() => first.SaveCheckpointAsync(Checkpoint(3), default))).Fenced);
            Assert.Equal("1", (await second.GetCheckpointAsync("journal", default))!.State);

            await second.ApplyAsync(Schema, [Row("3", "by second")], Checkpoint(4), default);
            Assert.Equal("4", (await second.GetCheckpointAsync("journal", default))!.State);
            Assert.Equal(["1", "3"], await second.KeysWrittenBeforeAsync("tickets", DateTimeOffset.MaxValue, default) is var keys ? keys.Order().ToArray() : null);

            // The earlier holder cannot take it back with its old term; a bucket made anew (another epoch) can.
            Assert.True((await Assert.ThrowsAsync<SinkException>(() => first.ClaimAsync(Term(1, "first"), default))).Fenced);
            await first.ClaimAsync(Term(1, "first") with { Epoch = "bucket-made-anew" }, default);
            Assert.True((await Assert.ThrowsAsync<SinkException>(() => second.ApplyAsync(Schema, [Row("4", "x")], Checkpoint(5), default))).Fenced);
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task A_claim_waits_for_the_write_under_way_and_then_reads_it(string target)
    {
        // The earlier holder writes as fast as it can while the next one claims the target: every
        // write it was told succeeded is visible to the claimer, and none succeeds after the claim.
        for (var round = 0; round < 5; round++)
        {
            var (first, second) = TwoProcesses(target);
            await using (first)
            await using (second)
            {
                await first.ClaimAsync(Term(10 * round + 1, "first"), default);
                await second.InitializeAsync(default);
                var lastCommitted = 0;
                var writing = Task.Run(async () =>
                {
                    for (var n = 1; ; n++)
                    {
                        try
                        {
                            await first.ApplyAsync(Schema, [Row(n.ToString(System.Globalization.CultureInfo.InvariantCulture), "row")], Checkpoint(n), default);
                            Volatile.Write(ref lastCommitted, n);
                        }
                        catch (SinkException ex) when (ex.Fenced)
                        {
                            return;
                        }
                    }
                });
                await Eventually.UntilAsync(() => Volatile.Read(ref lastCommitted) >= 20, "the first holder to be writing");

                await second.ClaimAsync(Term(10 * round + 2, "second"), default);
                var seen = (await second.GetCheckpointAsync("journal", default))!.State;
                await writing.WaitAsync(TimeSpan.FromSeconds(60));

                Assert.Equal(Volatile.Read(ref lastCommitted).ToString(System.Globalization.CultureInfo.InvariantCulture), seen);
            }
        }
    }

    private (SqlSink First, SqlSink Second) TwoProcesses(string target)
    {
        if (target == "sqlite")
        {
            var path = Path.Combine(_dir, Guid.NewGuid().ToString("N")[..8] + ".db");
            return (new SqliteSink(path, SinkMode.Flat), new SqliteSink(path, SinkMode.Flat));
        }

        var schema = PostgresServer.NewSchema();
        return (new PostgresSink(postgres.ConnectionString, SinkMode.Flat, schema), new PostgresSink(postgres.ConnectionString, SinkMode.Flat, schema));
    }

    private static LeaseTerm Term(long number, string holder) => new("source-a", "epoch-1", number, holder);

    private static Checkpoint Checkpoint(int n) => new("journal", n.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static ChangeEvent Row(string id, string subject) =>
        new(ChangeOp.Update, "tickets", id, System.Text.Json.JsonDocument.Parse($$"""{"id":"{{id}}","subject":"{{subject}}","modifiedTime":"2026-01-01T00:00:10.000Z"}""").RootElement.Clone(), new DateTimeOffset(2026, 1, 1, 0, 0, 10, TimeSpan.Zero), "test");
}
