using System.Text.Json;

namespace DeskSync.ZohoDesk.Streams;

/// <summary>Records read from Zoho and the reader's state after them: the sink commits both together.</summary>
public sealed record SnapshotBatch(IReadOnlyList<JsonElement> Records, string State, bool Complete)
{
    /// <summary>How many records the table holds, when the reader learned it (search answers carry a count).</summary>
    public long? Total { get; init; }

    /// <summary>
    /// The answers <see cref="Records"/> point into, when they are not copies (null when they own
    /// their memory). The consumer disposes them once it has written the records; until then the
    /// records stay readable, and after it they throw <see cref="ObjectDisposedException"/>.
    /// Copying each record out of its page instead cost as much again as reading the page.
    /// </summary>
    public IDisposable? Pages { get; init; }

    /// <summary>For children listed per parent: when their listing began (see <see cref="Core.ChangeEvent.ListedAt"/>).</summary>
    public DateTimeOffset? ListedAt { get; init; }
}

public sealed record SnapshotOptions
{
    /// <summary>One GET /tickets/{id} per ticket for what only the detail answer has (layoutDetails, counts, flags). Off by default: it costs a call per ticket.</summary>
    public bool DetailMode { get; init; }

    /// <summary>Parallel createdTime partitions per search-read table; never more than the client's concurrency (the default).</summary>
    public int Partitions { get; init; } = int.MaxValue;

    /// <summary>Each new thread's full content (one call per thread, once); false keeps the thread list's summary only.</summary>
    public bool ThreadContent { get; init; } = true;

    /// <summary>Reload tables whose snapshot already completed.</summary>
    public bool FullRefresh { get; init; }
}
