using System.Globalization;

namespace DeskSync.Core.Journal;

/// <summary>A place in the journal: segment number and byte offset in it.</summary>
public readonly record struct JournalPosition(long Segment, long Offset) : IComparable<JournalPosition>
{
    public static JournalPosition Start => new(1, 0);

    public int CompareTo(JournalPosition other) => Segment != other.Segment ? Segment.CompareTo(other.Segment) : Offset.CompareTo(other.Offset);

    public static bool operator <(JournalPosition a, JournalPosition b) => a.CompareTo(b) < 0;

    public static bool operator >(JournalPosition a, JournalPosition b) => a.CompareTo(b) > 0;

    public static bool operator <=(JournalPosition a, JournalPosition b) => a.CompareTo(b) <= 0;

    public static bool operator >=(JournalPosition a, JournalPosition b) => a.CompareTo(b) >= 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Segment}:{Offset}");
}

/// <summary>One record: where it starts, where the next one starts, its bytes and their CRC-32.</summary>
public sealed record JournalRecord(JournalPosition Position, JournalPosition Next, byte[] Payload, uint Crc = 0);

/// <summary>The journal cannot take more now (too much waits to be written) or at all (the disk refused).</summary>
public sealed class JournalUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The journal cannot be used as it is: a record before its last whole one is damaged, or it is
/// not the journal the target's checkpoint was taken from. Nothing was cut or skipped; the
/// message says where and what to do.
/// </summary>
public sealed class JournalDamagedException(string message) : Exception(message);

public sealed record JournalOptions
{
    /// <summary>A segment file is closed and a new one started past this size.</summary>
    public long SegmentBytes { get; init; } = 64L << 20;

    /// <summary>Bytes waiting to be written past which appends are refused (the caller answers 503).</summary>
    public long MaxPendingBytes { get; init; } = 64L << 20;

    /// <summary>Largest record.</summary>
    public int MaxRecordBytes { get; init; } = 16 << 20;
}
