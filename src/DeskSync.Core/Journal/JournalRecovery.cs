using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using DeskSync.Core.Files;

namespace DeskSync.Core.Journal;

/// <summary>
/// What opening a segment may cut, and what it must not. A torn tail — bytes after the last whole
/// record, with no whole record after them — is what a crash during an append leaves; its append
/// never completed, so it was never acknowledged, and cutting it loses nothing (the bytes are
/// still kept aside). Damage followed by a whole record is something else: the record after it
/// was written, flushed and acknowledged later, so the damage hides acknowledged events, and
/// nothing is cut.
/// </summary>
internal static class JournalRecovery
{
    public const int HeaderBytes = 8;

    /// <summary>The length of the run of whole records from the start of the file.</summary>
    public static long WholeRecords(FileStream stream, int maxRecordBytes)
    {
        long valid = 0;
        while (FrameAt(stream, valid, maxRecordBytes) is { } next)
        {
            valid = next;
        }

        return valid;
    }

    /// <summary>The end of the whole record starting at <paramref name="at"/>, or null if none starts there.</summary>
    public static long? FrameAt(FileStream stream, long at, int maxRecordBytes, uint? expectedCrc = null)
    {
        var length = stream.Length;
        if (at < 0 || at + HeaderBytes > length)
        {
            return null;
        }

        Span<byte> header = stackalloc byte[HeaderBytes];
        stream.Seek(at, SeekOrigin.Begin);
        stream.ReadExactly(header);
        var size = BinaryPrimitives.ReadInt32LittleEndian(header);
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        // An empty record is never written: a run of zeros (what some file systems show after a crash) is not one.
        if (size <= 0 || size > maxRecordBytes || at + HeaderBytes + size > length || (expectedCrc is { } e && e != crc))
        {
            return null;
        }

        var payload = new byte[size];
        stream.ReadExactly(payload);
        return Crc32.HashToUInt32(payload) == crc ? at + HeaderBytes + size : null;
    }

    /// <summary>The first whole record that starts after <paramref name="damagedAt"/>, if any (read in memory: a segment is bounded).</summary>
    public static long? NextWholeRecord(FileStream stream, long damagedAt, int maxRecordBytes)
    {
        var start = damagedAt + 1;
        if (start + HeaderBytes >= stream.Length)
        {
            return null;
        }

        var bytes = new byte[stream.Length - start];
        stream.Seek(start, SeekOrigin.Begin);
        stream.ReadExactly(bytes);
        for (var i = 0; i + HeaderBytes < bytes.Length; i++)
        {
            var size = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(i));
            if (size <= 0 || size > maxRecordBytes || (long)i + HeaderBytes + size > bytes.Length)
            {
                continue;
            }

            if (Crc32.HashToUInt32(bytes.AsSpan(i + HeaderBytes, size)) == BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i + 4)))
            {
                return start + i;
            }
        }

        return null;
    }

    /// <summary>Copies bytes from <paramref name="from"/> to the end into the journal's damaged/ folder; returns the copy's path.</summary>
    public static string KeepAside(string directory, string segmentPath, FileStream stream, long from, string why)
    {
        var folder = Path.Combine(directory, "damaged");
        OwnerOnly.CreateFolder(folder);
        var name = $"{Path.GetFileNameWithoutExtension(segmentPath)}-at-{from.ToString(CultureInfo.InvariantCulture)}-{why}-{DateTime.UtcNow:yyyyMMddTHHmmss}.bytes";
        var path = Path.Combine(folder, name);
        using var copy = new FileStream(path, OwnerOnly.NewFile(FileMode.Create, FileAccess.Write));
        stream.Seek(from, SeekOrigin.Begin);
        stream.CopyTo(copy);
        copy.Flush(flushToDisk: true);
        return path;
    }

    public static string DamagedMessage(string segmentPath, long at, long resumesAt) =>
        string.Create(CultureInfo.InvariantCulture,
            $"Journal segment {segmentPath} is damaged at byte {at}, and whole records follow from byte {resumesAt}: acknowledged events may be in the damaged bytes, so nothing was cut or skipped. Keep a copy of the journal folder, then run `desksync journal rebaseline` (with `run` stopped): it sets this journal aside, reads from Zoho what changed since the last applied event, and starts a new journal.");
}
