using System.Text.Json;
using DeskSync.Core;

namespace DeskSync.ZohoDesk.Streams;

/// <summary>A table's full-load state: running or complete, when it started (the first poll's watermark), and its reader's own state.</summary>
public sealed record LoadState(string Status, string StartedAt, string? Reader)
{
    public bool IsComplete => Status == "complete";

    public DateTimeOffset Started => ValueConverter.ParseTime(StartedAt);
}

/// <summary>A table's poll state: changes up to the watermark are in the target.</summary>
public sealed record PollState(string Watermark)
{
    public DateTimeOffset Through => ValueConverter.ParseTime(Watermark);
}

/// <summary>
/// The one owner of a table's checkpoints in the target: their names ("snapshot/tickets",
/// "poll/tickets") and their JSON. The full load and the poller write them; `status` and the
/// poller read them here.
/// </summary>
public static class TableCheckpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string LoadStream(DeskStream table) => "snapshot/" + table.Name;

    public static string PollStream(DeskStream table) => "poll/" + table.Name;

    public static Checkpoint Of(DeskStream table, LoadState state) => new(LoadStream(table), JsonSerializer.Serialize(state, Json));

    public static Checkpoint Of(DeskStream table, PollState state) => new(PollStream(table), JsonSerializer.Serialize(state, Json));

    public static async Task<LoadState?> LoadAsync(ISink sink, DeskStream table, CancellationToken ct) =>
        await sink.GetCheckpointAsync(LoadStream(table), ct) is { } saved ? JsonSerializer.Deserialize<LoadState>(saved.State, Json) : null;

    public static async Task<PollState?> PollAsync(ISink sink, DeskStream table, CancellationToken ct) =>
        await sink.GetCheckpointAsync(PollStream(table), ct) is { } saved ? JsonSerializer.Deserialize<PollState>(saved.State, Json) : null;
}
