using System.Text.Json.Nodes;
using DeskSync.Core;
using DeskSync.Emulator;
using DeskSync.Sinks.Files;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Polling;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.Tests.Children;

/// <summary>
/// The ticket's children in a JSONL change log: replayed as its docs say (the last line per id;
/// a dc line deletes a parent's rows not kept and not written after its listing began), the log
/// holds exactly the children the emulator holds after a load, random changes by webhooks and a poll.
/// </summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class ChildChangeLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-child-log-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(SinkMode.Flat)]
    [InlineData(SinkMode.Document)]
    public async Task A_replayed_change_log_holds_the_emulators_children_after_webhooks_and_a_poll(SinkMode mode)
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 120 }, AnswerSpread = 4 });
        var client = await portal.ConnectAsync();
        var tables = DeskStreams.WithParents(ChildFullLoadTests.Children);
        var folder = Path.Combine(_dir, mode.ToString());
        await using (var sink = new FileSink(folder, FileFormat.Jsonl, mode))
        {
            var token = ServiceUrlToken.New();
            await using var sync = new RealtimeSync(client, sink, Realtime.Options(portal, _dir, tables, token));
            await sync.StartReceiverAsync(CancellationToken.None);
            await WebhookRegistration.RegisterAsync(client, ServiceUrlToken.Url(sync.Server!.Address.ToString(), token), tables, "test", CancellationToken.None);
            var (run, stop) = await Realtime.StartStreamingAsync(sync);
            using (stop)
            {
                await new RandomChanges(portal.Emulator, seed: 11).RunAsync(300, TimeSpan.Zero);
                await portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(60));
                await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(60));
                await stop.CancelAsync();
                await run;
            }

            // A poll on top changes nothing a replay would see: the log already holds Zoho's state.
            await new Poller(client, sink).PollOnceAsync(tables, null, CancellationToken.None);
        }

        foreach (var table in ChildFullLoadTests.Children)
        {
            var replayed = Replay(Path.Combine(folder, table.Name + ".jsonl"), table);
            if (table == DeskStreams.TicketHistory)
            {
                // History rows are keyed by content: their number per ticket is what can be compared.
                var expected = portal.Emulator.Portal.List("tickets").Select(t => t["id"]!.GetValue<string>()).ToDictionary(id => id, id => portal.Emulator.Portal.History(id)!.Count);
                var actual = replayed.Values.GroupBy(parent => parent).ToDictionary(g => g.Key, g => g.Count());
                Assert.Equal(expected.OrderBy(e => e.Key), actual.OrderBy(e => e.Key));
                continue;
            }

            var ids = TargetVerifier.Expected(portal.Emulator, table).Select(r => r["id"]!.ToString()).Order(StringComparer.Ordinal).ToList();
            Assert.True(ids.SequenceEqual(replayed.Keys.Order(StringComparer.Ordinal)),
                $"{table.Name}: {replayed.Count} rows replayed, {ids.Count} in the emulator; missing {string.Join(", ", ids.Except(replayed.Keys).Take(5))}; extra {string.Join(", ", replayed.Keys.Except(ids).Take(5))}");
        }
    }

    /// <summary>The rows a change log leaves, by id, each with its parent's id.</summary>
    private static Dictionary<string, string> Replay(string file, DeskStream table)
    {
        var parentField = table.Parent!.ParentField;
        var parentColumn = ColumnNames.Snake(parentField);
        var rows = new Dictionary<string, (string Parent, DateTimeOffset Synced)>(StringComparer.Ordinal);
        foreach (var text in File.ReadLines(file))
        {
            var line = JsonNode.Parse(text)!.AsObject();
            switch (line["op"]!.GetValue<string>())
            {
                case "dc":
                    var parent = line["parent"]!.ToString();
                    var keep = line["keep"]!.AsArray().Select(k => k!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
                    DateTimeOffset? before = line["writtenBefore"] is { } w ? ValueConverter.ParseTime(w.GetValue<string>()) : null;
                    foreach (var id in rows.Where(r => r.Value.Parent == parent && !keep.Contains(r.Key) && !(before is { } b && r.Value.Synced >= b)).Select(r => r.Key).ToList())
                    {
                        rows.Remove(id);
                    }

                    break;
                case "d":
                    rows.Remove(line["id"]!.GetValue<string>());
                    break;
                default:
                    var record = line["record"]!.AsObject();
                    rows[line["id"]!.GetValue<string>()] = ((record[parentColumn] ?? record[parentField])!.ToString(), ValueConverter.ParseTime(line["syncedAt"]!.GetValue<string>()));
                    break;
            }
        }

        return rows.ToDictionary(r => r.Key, r => r.Value.Parent, StringComparer.Ordinal);
    }
}
