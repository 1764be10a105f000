using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeskSync.Core;
using DeskSync.Emulator;

namespace DeskSync.Tests.Support;

/// <summary>
/// ticket_history against the emulator: history entries have no id, so rows are matched by what
/// they say — the ticket, the time, the event and its properties — and each row's id must name its
/// ticket and time ("ticket:epochMs:hash").
/// </summary>
internal static class HistoryVerifier
{
    public static async Task VerifyAsync(DbConnection connection, ZohoDeskEmulator emulator, SinkMode mode, string qualify = "")
    {
        var expected = new List<string>();
        foreach (var ticket in emulator.Portal.List("tickets"))
        {
            var ticketId = ticket["id"]!.GetValue<string>();
            foreach (var entry in emulator.Portal.History(ticketId) ?? [])
            {
                expected.Add(Describe(ticketId, ValueConverter.ParseTime(entry["eventTime"]!.GetValue<string>()), entry["eventName"]!.GetValue<string>(), entry["eventInfo"]));
            }
        }

        var actual = new List<string>();
        foreach (var (id, row) in await TargetVerifier.ReadRowsAsync(connection, $"SELECT * FROM {qualify}\"ticket_history\""))
        {
            if (row.GetValueOrDefault("_deleted_at") is not null)
            {
                continue;
            }

            string ticketId, eventName;
            DateTimeOffset eventTime;
            JsonNode? info;
            if (mode == SinkMode.Document)
            {
                var record = JsonNode.Parse(row["record"]!.ToString()!)!;
                ticketId = record["ticketId"]!.ToString();
                eventName = record["eventName"]!.ToString();
                eventTime = ValueConverter.ToTimestamp(JsonSerializer.SerializeToElement(record["eventTime"]))!.Value;
                info = record["eventInfo"];
            }
            else
            {
                ticketId = row["ticket_id"]!.ToString()!;
                eventName = row["event_name"]!.ToString()!;
                eventTime = row["event_time"] switch
                {
                    DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
                    DateTimeOffset dto => dto,
                    var s => ValueConverter.ParseTime(s!.ToString()!),
                };
                info = row["event_info"] is { } text ? JsonNode.Parse(text.ToString()!) : null;
            }

            Assert.StartsWith($"{ticketId}:{eventTime.ToUnixTimeMilliseconds()}:", id, StringComparison.Ordinal);
            actual.Add(Describe(ticketId, eventTime, eventName, info));
        }

        var missing = expected.Except(actual).Take(3).ToList();
        var extra = actual.Except(expected).Take(3).ToList();
        Assert.True(expected.Count == actual.Count && missing.Count == 0 && extra.Count == 0,
            $"ticket_history: {actual.Count} rows in the target, {expected.Count} in the emulator; missing {string.Join(" | ", missing)}; extra {string.Join(" | ", extra)}");
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
    }

    private static string Describe(string ticketId, DateTimeOffset time, string eventName, JsonNode? info) =>
        $"{ticketId} {time.ToUnixTimeMilliseconds()} {eventName} {Canonical(info)?.ToJsonString()}";

    /// <summary>The JSON with every object's keys in order: a jsonb column keeps its own order.</summary>
    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(Canonical)]),
        _ => node?.DeepClone(),
    };
}
