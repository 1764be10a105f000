using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Threading.Channels;

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

public sealed record JournalRecord(JournalPosition Position, JournalPosition Next, byte[] Payload);

/// <summary>The journal cannot take more now (too much waits to be written) or at all (the disk refused).</summary>
public sealed class JournalUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

public sealed record JournalOptions
{
    /// <summary>A segment file is closed and a new one started past this size.</summary>
    public long SegmentBytes { get; init; } = 64L << 20;

    /// <summary>Bytes waiting to be written past which appends are refused (the caller answers 503).</summary>
    public long MaxPendingBytes { get; init; } = 64L << 20;

    /// <summary>Largest record.</summary>
    public int MaxRecordBytes { get; init; } = 16 << 20;
}

/// <summary>
/// An append-only, crash-safe log of byte records in numbered segment files. Each record is
/// framed as [length u32][CRC-32 u32][payload]. <see cref="AppendAsync"/> completes only after
/// the record is flushed to disk; concurrent appends share one flush (group commit), which is
/// how durable acknowledgement stays fast. On open, a torn tail (a record cut by a crash, whose
/// append never completed) is cut off. Readers see only flushed records.
/// </summary>
public sealed class DurableJournal : IAsyncDisposable
{
    private const int HeaderBytes = 8;
    private readonly string _directory;
    private readonly JournalOptions _options;
    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly Lock _gate = new();
    private TaskCompletionSource _flushed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FileStream _stream;
    private long _segment;
    private long _pendingBytes;
    private Exception? _failure;

    private DurableJournal(string directory, JournalOptions options, long segment, FileStream stream)
    {
        _directory = directory;
        _options = options;
        _segment = segment;
        _stream = stream;
        End = new JournalPosition(segment, stream.Length);
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Everything before this position is on disk.</summary>
    public JournalPosition End { get; private set; }

    public long PendingBytes => Interlocked.Read(ref _pendingBytes);

    /// <summary>Flushes to disk so far: fewer than appends when appends arrive together (group commit).</summary>
    public long Flushes { get; private set; }

    public long Appended { get; private set; }

    public string Directory => _directory;

    public static DurableJournal Open(string directory, JournalOptions? options = null)
    {
        System.IO.Directory.CreateDirectory(directory);
        var segments = Segments(directory);
        var last = segments.Count == 0 ? 1 : segments[^1];
        var path = SegmentPath(directory, last);
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        var valid = ValidLength(stream);
        if (valid < stream.Length)
        {
            stream.SetLength(valid); // a record whose append never completed
            stream.Flush(flushToDisk: true);
        }

        stream.Seek(0, SeekOrigin.End);
        return new DurableJournal(directory, options ?? new JournalOptions(), last, stream);
    }

    /// <summary>Appends a record and returns once it is on disk.</summary>
    public Task<JournalPosition> AppendAsync(byte[] payload, CancellationToken cancellationToken = default)
    {
        if (_failure is not null)
        {
            throw new JournalUnavailableException($"The journal in {_directory} cannot be written: {_failure.Message}", _failure);
        }

        if (payload.Length > _options.MaxRecordBytes)
        {
            throw new ArgumentException($"A journal record is limited to {_options.MaxRecordBytes} bytes.", nameof(payload));
        }

        if (Interlocked.Add(ref _pendingBytes, payload.Length) > _options.MaxPendingBytes)
        {
            Interlocked.Add(ref _pendingBytes, -payload.Length);
            throw new JournalUnavailableException("The journal is behind: too much waits to be written.");
        }

        var pending = new Pending(payload, new TaskCompletionSource<JournalPosition>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_pending.Writer.TryWrite(pending))
        {
            Interlocked.Add(ref _pendingBytes, -payload.Length);
            throw new JournalUnavailableException("The journal is closed.");
        }

        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Flushed records from <paramref name="from"/> to the current end.</summary>
    public IEnumerable<JournalRecord> Read(JournalPosition from)
    {
        var end = End;
        var position = from;
        while (position < end)
        {
            var path = SegmentPath(_directory, position.Segment);
            if (!File.Exists(path))
            {
                if (position.Segment >= end.Segment)
                {
                    yield break;
                }

                position = new JournalPosition(position.Segment + 1, 0);
                continue;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var limit = position.Segment == end.Segment ? end.Offset : stream.Length;
            stream.Seek(position.Offset, SeekOrigin.Begin);
            var header = new byte[HeaderBytes];
            while (stream.Position + HeaderBytes <= limit)
            {
                var at = stream.Position;
                stream.ReadExactly(header);
                var length = BinaryPrimitives.ReadInt32LittleEndian(header);
                var crc = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
                if (length < 0 || at + HeaderBytes + length > limit)
                {
                    throw new InvalidDataException($"Journal segment {path} is damaged at {at}.");
                }

                var payload = new byte[length];
                stream.ReadExactly(payload);
                if (Crc32.HashToUInt32(payload) != crc)
                {
                    throw new InvalidDataException($"Journal segment {path} has a bad checksum at {at}.");
                }

                yield return new JournalRecord(new JournalPosition(position.Segment, at), new JournalPosition(position.Segment, stream.Position), payload);
            }

            if (position.Segment >= end.Segment)
            {
                yield break;
            }

            position = new JournalPosition(position.Segment + 1, 0);
        }
    }

    /// <summary>Completes when records past <paramref name="position"/> are on disk.</summary>
    public async Task WaitForDataAsync(JournalPosition position, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task flushed;
            lock (_gate)
            {
                if (End > position)
                {
                    return;
                }

                flushed = _flushed.Task;
            }

            await flushed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Deletes whole segments before the one holding <paramref name="applied"/>.</summary>
    public void DeleteBefore(JournalPosition applied)
    {
        foreach (var segment in Segments(_directory).Where(s => s < applied.Segment))
        {
            File.Delete(SegmentPath(_directory, segment));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer;
        await _stream.DisposeAsync();
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>();
        var header = new byte[HeaderBytes];
        while (await _pending.Reader.WaitToReadAsync())
        {
            batch.Clear();
            long bytes = 0;
            while (bytes < (4 << 20) && _pending.Reader.TryRead(out var p))
            {
                batch.Add(p);
                bytes += p.Payload.Length;
            }

            var positions = new JournalPosition[batch.Count];
            var durable = _stream.Length;
            try
            {
                if (_failure is not null)
                {
                    throw _failure;
                }

                if (_stream.Length > 0 && _stream.Length + bytes > _options.SegmentBytes)
                {
                    await RollAsync();
                    durable = 0;
                }

                for (var i = 0; i < batch.Count; i++)
                {
                    positions[i] = new JournalPosition(_segment, _stream.Position);
                    BinaryPrimitives.WriteInt32LittleEndian(header, batch[i].Payload.Length);
                    BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), Crc32.HashToUInt32(batch[i].Payload));
                    await _stream.WriteAsync(header);
                    await _stream.WriteAsync(batch[i].Payload);
                }

                _stream.Flush(flushToDisk: true);
                Flushes++;
                Appended += batch.Count;
                lock (_gate)
                {
                    End = new JournalPosition(_segment, _stream.Length);
                    _flushed.TrySetResult();
                    _flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                for (var i = 0; i < batch.Count; i++)
                {
                    Interlocked.Add(ref _pendingBytes, -batch[i].Payload.Length);
                    batch[i].Done.TrySetResult(positions[i]);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A full or read-only disk: nothing of this batch is acknowledged. The stream may
                // still buffer bytes it could not write, so it is dropped, and the segment is
                // reopened and cut back to its last flushed record; once the disk has room again,
                // appends carry on without a restart.
                Reopen(durable);
                var error = new JournalUnavailableException($"The journal in {_directory} cannot be written: {ex.Message}", ex);
                foreach (var p in batch)
                {
                    Interlocked.Add(ref _pendingBytes, -p.Payload.Length);
                    p.Done.TrySetException(error);
                }
            }
        }
    }

    private void Reopen(long durable)
    {
        try
        {
            _stream.Dispose(); // its buffered bytes may fail to write again: they are not wanted
        }
        catch (IOException)
        {
        }

        try
        {
            _stream = new FileStream(SegmentPath(_directory, _segment), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
            if (_stream.Length > durable)
            {
                _stream.SetLength(durable);
            }

            _stream.Seek(0, SeekOrigin.End);
            _failure = null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _failure = ex; // the segment cannot even be opened: refuse appends until a restart
        }
    }

    private async Task RollAsync()
    {
        _stream.Flush(flushToDisk: true);
        await _stream.DisposeAsync();
        _segment++;
        _stream = new FileStream(SegmentPath(_directory, _segment), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
    }

    private static long ValidLength(FileStream stream)
    {
        var header = new byte[HeaderBytes];
        long valid = 0;
        stream.Seek(0, SeekOrigin.Begin);
        while (valid + HeaderBytes <= stream.Length)
        {
            stream.Seek(valid, SeekOrigin.Begin);
            stream.ReadExactly(header);
            var length = BinaryPrimitives.ReadInt32LittleEndian(header);
            if (length < 0 || valid + HeaderBytes + length > stream.Length)
            {
                break;
            }

            var payload = new byte[length];
            stream.ReadExactly(payload);
            if (Crc32.HashToUInt32(payload) != BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4)))
            {
                break;
            }

            valid += HeaderBytes + length;
        }

        return valid;
    }

    private static List<long> Segments(string directory) =>
        [.. System.IO.Directory.EnumerateFiles(directory, "*.journal")
            .Select(f => long.TryParse(Path.GetFileNameWithoutExtension(f), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1)
            .Where(n => n > 0).Order()];

    private static string SegmentPath(string directory, long segment) =>
        Path.Combine(directory, segment.ToString("D8", CultureInfo.InvariantCulture) + ".journal");

    private sealed record Pending(byte[] Payload, TaskCompletionSource<JournalPosition> Done);
}
