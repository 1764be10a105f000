using System.Text.Json;
using DeskSync.Core;
using DeskSync.ZohoDesk.Api;

namespace DeskSync.ZohoDesk.Streams.Reads;

/// <summary>
/// The child counts only a parent's detail carries (a ticket's attachmentCount, timeEntryCount and
/// tagCount: its search answer has none), read with one call per parent for every child stream of
/// one run that needs them — a 1-credit detail instead of a 3-credit list per kind, and no list at
/// all for a kind the ticket does not have. A parent's counts are kept until each of the run's
/// streams that need them has asked, and at most <see cref="Kept"/> parents' at a time (one asked
/// for again after that costs another call).
/// </summary>
public sealed class ParentCounts(int consumers)
{
    private const int Kept = 20_000;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Lock _gate = new();

    /// <summary>Shared counts for the child streams among <paramref name="tables"/> that need them; null when none does.</summary>
    public static ParentCounts? For(IEnumerable<DeskStream> tables) =>
        tables.Count(t => t.Parent?.CountInDetailOnly == true) is var n and > 0 ? new ParentCounts(n) : null;

    /// <summary>The parent's count of the child's kind: 0 for a parent gone, null when its detail does not say (then the children are listed).</summary>
    public async Task<long?> CountAsync(StreamReading reading, ChildOf child, string parentId, CancellationToken ct)
    {
        Task<Dictionary<string, long>?> counts;
        lock (_gate)
        {
            if (!_entries.TryGetValue(parentId, out var entry))
            {
                entry = new Entry(ReadAsync(reading, child, parentId, ct), consumers);
                _entries[parentId] = entry;
                _order.Enqueue(parentId);
                while (_order.Count > Kept && _order.TryDequeue(out var oldest))
                {
                    _entries.Remove(oldest);
                }
            }

            if (--entry.Left <= 0)
            {
                _entries.Remove(parentId);
            }

            counts = entry.Counts;
        }

        return await counts is { } found ? found.TryGetValue(child.CountField!, out var n) ? n : null : 0;
    }

    /// <summary>Every count in the parent's detail; null for a parent gone.</summary>
    private static async Task<Dictionary<string, long>?> ReadAsync(StreamReading reading, ChildOf child, string parentId, CancellationToken ct)
    {
        try
        {
            using var doc = await reading.Client.GetAsync(child.Parent.RecordPath(parentId), label: reading.Label, cancellationToken: ct);
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            if (doc is null || doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return counts;
            }

            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name.EndsWith("Count", StringComparison.Ordinal) && ValueConverter.Convert(property.Value, ColumnType.Integer) is long n)
                {
                    counts[property.Name] = n;
                }
            }

            return counts;
        }
        catch (ZohoApiException ex) when (ex.Kind == ZohoFailureKind.NotFound)
        {
            return null;
        }
    }

    private sealed class Entry(Task<Dictionary<string, long>?> counts, int left)
    {
        public Task<Dictionary<string, long>?> Counts { get; } = counts;

        public int Left { get; set; } = left;
    }
}
