using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Postgres;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;

namespace DeskSync.Tests.Loading;

[Trait(Lanes.Key, Lanes.Integration)]
[RunsLong]
public sealed class FullLoadPostgresTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    [Theory]
    [InlineData(SinkMode.Document)]
    [InlineData(SinkMode.Flat)]
    public async Task A_full_load_of_10000_tickets_into_PostgreSQL_equals_the_emulator_row_for_row(SinkMode mode)
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 10_000 } });
        var client = await portal.ConnectAsync();
        var schema = PostgresServer.NewSchema();
        await using (var sink = new PostgresSink(postgres.ConnectionString, mode, schema))
        {
            var results = await new FullLoad(client, sink, new SnapshotOptions()).RunAsync(DeskStreams.Default, null, CancellationToken.None);
            Assert.All(results, r => Assert.Equal(TableLoadStatus.Loaded, r.Status));
        }

        await using var connection = await postgres.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, portal.Emulator, mode, DeskStreams.Default, qualify: $"\"{schema}\".");
    }
}
