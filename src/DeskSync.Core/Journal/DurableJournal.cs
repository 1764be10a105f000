using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Threading.Channels;
using DeskSync.Core.Files;

namespace DeskSync.Core.Journal;

/// <summary>
/// An append-only, crash-safe log of byte records in numbered segment files. Each record is
/// framed as [length u32][CRC-32 u32][payload]. <see cref="AppendAsync"/> completes only after
/// the record is flushed to disk; concurrent appends share one flush (group commit), which is
/// how durable acknowledgement stays fast. On open, a torn tail (a record cut by a crash, whose
/// append never completed) is cut off and kept aside; damage anywhere else stops the open
/// (<see cref="JournalRecovery"/>). Readers see only flushed records. Every journal has an id of
/// its own, so that a target's checkpoint taken from another journal (lost, replaced, restored)
/// is told apart. Its files are its owner's only.
/// </summary>
public sealed class DurableJournal : IJournal
{
    private const int HeaderBytes = JournalRecovery.HeaderBytes;
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

    private DurableJournal(string directory, string id, JournalOptions options, long segment, FileStream stream)
    {
        _directory = directory;
        Id = id;
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

    public string Location => _directory;

    public JournalPosition First => new(FirstSegment, 0);

    /// <summary>This journal's identity, made when its folder was first used.</summary>
    public string Id { get; }

    /// <summary>The oldest segment still on disk.</summary>
    public long FirstSegment => JournalFiles.Segments(_directory) is [var first, ..] ? first : _segment;

    /// <summary>Set when opening cut a torn tail: where its bytes were kept.</summary>
    public string? CutTail { get; private set; }

    /// <summary>Opens (or starts) the journal in <paramref name="directory"/>; throws <see cref="JournalDamagedException"/> for damage that is not a torn tail.</summary>
    public static DurableJournal Open(string directory, JournalOptions? options = null)
    {
        options ??= new JournalOptions();
        OwnerOnly.CreateFolder(directory);
        var id = IdOf(directory);
        var segments = JournalFiles.Segments(directory);
        var last = segments.Count == 0 ? 1 : segments[^1];
        var path = JournalFiles.SegmentPath(directory, last);
        var stream = new FileStream(path, OwnerOnly.NewFile(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16));
        OwnerOnly.Check(path, isFolder: false);
        string? cut = null;
        try
        {
            var valid = JournalRecovery.WholeRecords(stream, options.MaxRecordBytes);
            if (valid < stream.Length)
            {
                if (JournalRecovery.NextWholeRecord(stream, valid, options.MaxRecordBytes) is { } resumes)
                {
                    throw new JournalDamagedException(JournalRecovery.DamagedMessage(path, valid, resumes));
                }

                cut = JournalRecovery.KeepAside(directory, path, stream, valid, "torn-tail");
                stream.SetLength(valid); // a record whose append never completed
                stream.Flush(flushToDisk: true);
            }
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        stream.Seek(0, SeekOrigin.End);
        return new DurableJournal(directory, id, options, last, stream) { CutTail = cut };
    }

    /// <summary>The id of the journal in <paramref name="directory"/>, made (owner-only) if it has none yet.</summary>
    public static string IdOf(string directory)
    {
        if (JournalFiles.ReadId(directory) is { } id)
        {
            return id;
        }

        id = Guid.NewGuid().ToString("N");
        OwnerOnly.WriteAllText(JournalFiles.IdPath(directory), id + "\n");
        return id;
    }

    /// <summary>This journal as a checkpoint is judged against it.</summary>
    public JournalView View => new(Id, _directory, End, FirstSegment);

    /// <summary>Journaled bytes from <paramref name="position"/> to the end; never negative.</summary>
    public long BytesAfter(JournalPosition position) => JournalFiles.BytesAfter(_directory, position, End);

    public Task<JournalView> ViewAsync(JournalPosition? recordAt, CancellationToken cancellationToken) => Task.FromResult(View);

    public JournalRecord? Peek(JournalPosition from) => Read(from).FirstOrDefault();

    public IAsyncEnumerable<JournalRecord> ReadAsync(JournalPosition from, CancellationToken cancellationToken = default) => Read(from).ToAsyncEnumerable();

    public Task DeleteBeforeAsync(JournalPosition applied, DateTimeOffset? writtenBefore, CancellationToken cancellationToken)
    {
        DeleteBefore(applied, writtenBefore);
        return Task.CompletedTask;
    }

    /// <summary>Appends a record and returns once it is on disk.</summary>
    public Task<JournalPosition> AppendAsync(byte[] payload, CancellationToken cancellationToken = default)
    {
        if (_failure is not null)
        {
            throw new JournalUnavailableException($"The journal in {_directory} cannot be written: {_failure.Message}", _failure);
        }

        if (payload.Length > _options.MaxRecordBytes || payload.Length == 0)
        {
            throw new ArgumentException($"A journal record holds 1 to {_options.MaxRecordBytes} bytes.", nameof(payload));
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
            var path = JournalFiles.SegmentPath(_directory, position.Segment);
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
                if (length <= 0 || at + HeaderBytes + length > limit)
                {
                    throw new JournalDamagedException(ReadDamage(path, at));
                }

                var payload = new byte[length];
                stream.ReadExactly(payload);
                if (Crc32.HashToUInt32(payload) != crc)
                {
                    throw new JournalDamagedException(ReadDamage(path, at));
                }

                yield return new JournalRecord(new JournalPosition(position.Segment, at), new JournalPosition(position.Segment, stream.Position), payload, crc);
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

    /// <summary>
    /// Deletes whole segments before the one holding <paramref name="applied"/>; with
    /// <paramref name="writtenBefore"/>, only those last written before it (segments are kept a
    /// while after they are applied, to remember which events were already received).
    /// </summary>
    public void DeleteBefore(JournalPosition applied, DateTimeOffset? writtenBefore = null)
    {
        foreach (var segment in JournalFiles.Segments(_directory).Where(s => s < applied.Segment))
        {
            var path = JournalFiles.SegmentPath(_directory, segment);
            if (writtenBefore is null || File.GetLastWriteTimeUtc(path) < writtenBefore.Value.UtcDateTime)
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>When segment files still on disk were last written, oldest first (for rebuilding what was received).</summary>
    public IReadOnlyList<(long Segment, DateTimeOffset Written)> SegmentTimes() =>
        [.. JournalFiles.Segments(_directory).Select(s => (s, new DateTimeOffset(File.GetLastWriteTimeUtc(JournalFiles.SegmentPath(_directory, s)), TimeSpan.Zero)))];

    private static string ReadDamage(string path, long at) =>
        string.Create(CultureInfo.InvariantCulture,
            $"Journal segment {path} is damaged at byte {at}: the events from there on cannot be read, so nothing after it was applied or skipped. Keep a copy of the journal folder, then run `desksync journal rebaseline` (with `run` stopped): it sets this journal aside, reads from Zoho what changed since the last applied event, and starts a new journal.");

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
            _stream = new FileStream(JournalFiles.SegmentPath(_directory, _segment), OwnerOnly.NewFile(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16));
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
        _stream = new FileStream(JournalFiles.SegmentPath(_directory, _segment), OwnerOnly.NewFile(FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 1 << 16));
    }

    private sealed record Pending(byte[] Payload, TaskCompletionSource<JournalPosition> Done);
}
