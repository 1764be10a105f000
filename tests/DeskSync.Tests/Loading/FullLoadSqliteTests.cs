using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Loading;

[Trait(Lanes.Key, Lanes.Integration)]
[RunsLong]
public sealed class FullLoadSqliteTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-load-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Every case goes past the 5,000-row offset wall; the flat ones, which differ from the document case only in how a row is written, with fewer tickets.</summary>
    [Theory]
    [InlineData(SinkMode.Document, true, 20_000)]
    [InlineData(SinkMode.Flat, true, 10_000)]
    [InlineData(SinkMode.Flat, false, 10_000)]
    public async Task A_full_load_of_many_thousand_tickets_equals_the_emulator_row_for_row(SinkMode mode, bool raw, int count)
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = count } });
        var client = await portal.ConnectAsync();
        var path = Path.Combine(_dir, $"{mode}-{raw}.db");
        await using (var sink = new SqliteSink(path, mode) { RawColumn = raw })
        {
            var results = await new FullLoad(client, sink, new SnapshotOptions()).RunAsync(DeskStreams.Default, null, CancellationToken.None);
            Assert.All(results, r => Assert.Equal(TableLoadStatus.Loaded, r.Status));
            var tickets = results.Single(r => r.Table == DeskStreams.Tickets);
            Assert.InRange(tickets.Calls, count / 100, (1.2 * count / 100) + 20);
        }

        await using var connection = new SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        await TargetVerifier.VerifyAsync(connection, portal.Emulator, mode, DeskStreams.Default);
        var ticketColumns = await TargetVerifier.ReadRowsAsync(connection, "SELECT name AS id FROM pragma_table_info('tickets')");
        Assert.Equal(raw && mode == SinkMode.Flat, ticketColumns.ContainsKey("_raw"));
    }
}
