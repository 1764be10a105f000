using DeskSync.Core;

namespace DeskSync.ZohoDesk.Streams;

public sealed record StandardField(string Source, ColumnType Type);

/// <summary>
/// A Zoho Desk module DeskSync replicates, described once: its table name and key, its declared
/// columns (those the answer it is read from carries in Zoho's OpenAPI schemas), how it is read in
/// full and kept current (<see cref="Read"/>), the webhook events Zoho sends for it
/// (<see cref="Events"/>) and the API scopes it needs. Every layer asks the stream; none keeps a
/// table list of its own.
/// </summary>
public sealed record DeskStream(
    string Name,
    string DisplayName,
    string Path,
    int PageSize,
    string? FieldsModule,
    IReadOnlyList<StandardField> Fields)
{
    /// <summary>How the table is read in full, polled and listed for deletes.</summary>
    public required StreamRead Read { get; init; }

    /// <summary>The webhook events Zoho sends for the module, or null when it sends none (polling keeps it current).</summary>
    public StreamEvents? Events { get; init; }

    /// <summary>Set for a stream read per record of another (a ticket's threads): see <see cref="ChildOf"/>.</summary>
    public ChildOf? Parent { get; init; }

    /// <summary>OAuth scopes the reads need (any one of those Zoho lists for an operation).</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];

    public string SearchPath => Path + "/search";

    /// <summary>GET path of one record, which answers it complete (the re-read of a thin event).</summary>
    public string RecordPath(string id) => $"{Path}/{Uri.EscapeDataString(id)}";

    public bool HasModifiedTime => Fields.Any(f => f.Source == "modifiedTime");
}
