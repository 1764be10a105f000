using System.Text.Json;

namespace DeskSync.Core;

/// <summary>Debezium's op codes: r = read by a snapshot, c = create, u = update, d = delete.</summary>
public enum ChangeOp
{
    Read,
    Create,
    Update,
    Delete,
}

/// <summary>
/// The one kind of record that flows from readers to sinks. <see cref="Record"/> is the Zoho
/// record (null for a delete that carries only the key).
/// </summary>
public sealed record ChangeEvent(ChangeOp Op, string Table, string Key, JsonElement? Record, DateTimeOffset? ModifiedTime, string Source);
