using System.Globalization;

namespace DeskSync.Core.Journal;

/// <summary>
/// What a checkpoint is judged against: the journal's id (null when its folder has none), where it
/// ends and its oldest segment. An open journal gives its own (<see cref="DurableJournal.View"/>);
/// <see cref="JournalFiles.ViewOf"/> reads one from the files without opening the journal.
/// </summary>
public sealed record JournalView(string? Id, string Directory, JournalPosition End, long FirstSegment)
{
    /// <summary>For a journal that is not a folder of segments: whether it holds a record with this CRC at a position.</summary>
    public Func<JournalPosition, uint, bool>? RecordCheck { get; init; }

    /// <summary>Whether a whole record with this CRC starts at <paramref name="at"/> and ends within the journal.</summary>
    public bool HasRecord(JournalPosition at, uint crc) => RecordCheck?.Invoke(at, crc) ?? JournalFiles.HasRecord(Directory, at, crc, End);
}

/// <summary>The journal's files as they are on disk: numbered segments, read without opening the journal (`status` only reads).</summary>
public static class JournalFiles
{
    private const string IdFile = "journal.id";

    public static string IdPath(string directory) => Path.Combine(directory, IdFile);

    /// <summary>The journal's id, or null when its folder has none (yet).</summary>
    public static string? ReadId(string directory) =>
        File.Exists(IdPath(directory)) && File.ReadAllText(IdPath(directory)).Trim() is { Length: > 0 } id ? id : null;

    /// <summary>The journal as its files stand, for reading only.</summary>
    public static JournalView ViewOf(string directory)
    {
        var segments = Segments(directory);
        var end = segments.Count == 0 ? JournalPosition.Start : new JournalPosition(segments[^1], new FileInfo(SegmentPath(directory, segments[^1])).Length);
        return new JournalView(ReadId(directory), directory, end, segments.Count == 0 ? 1 : segments[0]);
    }

    public static bool HasRecord(string directory, JournalPosition at, uint crc, JournalPosition end)
    {
        var path = SegmentPath(directory, at.Segment);
        if (at >= end || !File.Exists(path))
        {
            return false;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return JournalRecovery.FrameAt(stream, at.Offset, new JournalOptions().MaxRecordBytes, crc) is { } next
            && new JournalPosition(at.Segment, next) <= end;
    }

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
