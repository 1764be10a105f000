using System.Globalization;

namespace DeskSync.Core.Journal;

/// <summary>The journal's files as they are on disk: numbered segments, read without opening the journal (`status` only reads).</summary>
public static class JournalFiles
{
    public static List<long> Segments(string directory) =>
        !Directory.Exists(directory) ? [] :
        [.. Directory.EnumerateFiles(directory, "*.journal")
            .Select(f => long.TryParse(Path.GetFileNameWithoutExtension(f), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1)
            .Where(n => n > 0).Order()];

    public static string SegmentPath(string directory, long segment) =>
        Path.Combine(directory, segment.ToString("D8", CultureInfo.InvariantCulture) + ".journal");

    /// <summary>Bytes from <paramref name="position"/> up to <paramref name="end"/> (or the files' ends); never negative.</summary>
    public static long BytesAfter(string directory, JournalPosition position, JournalPosition? end = null)
    {
        long bytes = 0;
        foreach (var segment in Segments(directory).Where(s => s >= position.Segment && (end is null || s <= end.Value.Segment)))
        {
            var length = end is { } e && segment == e.Segment ? e.Offset : new FileInfo(SegmentPath(directory, segment)).Length;
            bytes += segment == position.Segment ? Math.Max(0, length - position.Offset) : length;
        }

        return bytes;
    }
}
