using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Postgres;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;

namespace DeskSync.Tests.Reliability;

[Trait(Lanes.Key, Lanes.Integration)]
[Collection(PostgresOutages.Name)]
public sealed class PostgresRestartTests(RestartablePostgresServer postgres)
{
    [Fact]
    public async Task PostgreSQL_restarted_midway_stops_the_load_with_a_clear_error_and_the_next_run_ends_exact()
    {
        Assert.True(postgres.SelfManaged, "this test restarts the server, so it needs the one the tests start (unset DESKSYNC_TEST_PG)");
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 6_000 } });
        portal.Emulator.Faults.Latency = TimeSpan.FromMilliseconds(5);
        var schema = PostgresServer.NewSchema();
        var restart = new RestartAt(postgres, 2_000);

        await using (var sink = new PostgresSink(postgres.ConnectionString, SinkMode.Flat, schema))
        {
            var ex = await Assert.ThrowsAsync<SinkException>(() => new FullLoad(portal.ConnectAsync().Result, sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], restart, CancellationToken.None));
            Assert.Contains("run again to continue from the last checkpoint", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Password", ex.Message, StringComparison.OrdinalIgnoreCase);
        }

        Assert.True(restart.Done);
        await using (var sink = new PostgresSink(postgres.ConnectionString, SinkMode.Flat, schema))
        {
            var resumed = await new FullLoad(await portal.ConnectAsync(), sink, new SnapshotOptions()).RunAsync([DeskStreams.Tickets], null, CancellationToken.None);
            Assert.Equal(TableLoadStatus.Loaded, resumed.Single().Status);
        }

        await using var connection = await postgres.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, portal.Emulator, SinkMode.Flat, [DeskStreams.Tickets], qualify: $"\"{schema}\".");
    }

    private sealed class RestartAt(RestartablePostgresServer postgres, long rows) : IFullLoadProgress
    {
        public bool Done { get; private set; }

        public void TableStarted(DeskStream table)
        {
        }

        public void RowsWritten(DeskStream table, long rowsSoFar, long? total, long calls, long credits)
        {
            if (!Done && rowsSoFar >= rows)
            {
                Done = true;
                postgres.RestartAsync().GetAwaiter().GetResult();
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
