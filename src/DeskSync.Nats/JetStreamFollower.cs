using System.IO.Hashing;
using System.Threading.Channels;
using DeskSync.Core.Journal;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace DeskSync.Nats;

/// <summary>
/// Reads a stream in order from a sequence with one ordered consumer that reads ahead into a small
/// buffer (JetStream pushes new records as they are stored, so the applier needs no polling). Asked
/// for a sequence other than the one it would give next (the applier starting again from its
/// checkpoint), it starts over there. A consumer that fails ends the buffer with its error, which
/// the reader gets; the next read starts a new one.
/// </summary>
internal sealed class JetStreamFollower(NatsJSContext js, string stream) : IAsyncDisposable
{
    private const int ReadAhead = 1024;
    private readonly Lock _gate = new();
    private Channel<JournalRecord>? _records;
    private CancellationTokenSource? _stop;
    private Task? _loop;
    private long _expected;
    private volatile JournalRecord? _last;

    /// <summary>
    /// The record at <paramref name="sequence"/>; waits for it. Records are only let go of once
    /// applied, so one missing where the reading stands means events were removed before they were
    /// applied: that stops the reader (<see cref="JournalDamagedException"/>), never a silent skip.
    /// </summary>
    public async Task<JournalRecord> NextAsync(long sequence, CancellationToken ct)
    {
        var records = At(sequence);
        while (true)
        {
            var record = await records.Reader.ReadAsync(ct);
            if (record.Position.Segment < sequence)
            {
                continue;
            }

            if (record.Position.Segment > sequence)
            {
                throw new JournalDamagedException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"Records {sequence} to {record.Position.Segment - 1} of JetStream stream {stream} were removed before they were applied (by hand, or by a limit set on the stream). Nothing after them was applied or skipped. Run `desksync journal rebaseline --journal …`: it reads from Zoho what changed since the last applied event."));
            }

            lock (_gate)
            {
                _expected = record.Next.Segment;
            }

            _last = record;
            return record;
        }
    }

    /// <summary>Whether a record at or after <paramref name="sequence"/> arrives within <paramref name="wait"/>.</summary>
    public async Task<bool> WaitAsync(long sequence, TimeSpan wait, CancellationToken ct)
    {
        var records = At(sequence);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(wait);
        try
        {
            return await records.Reader.WaitToReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    public JournalRecord? Peek(long sequence)
    {
        if (_last is { } last && last.Position.Segment == sequence)
        {
            return last;
        }

        return _records is { } records && records.Reader.TryPeek(out var next) && next.Position.Segment >= sequence ? next : null;
    }

    /// <summary>The bytes of the record at exactly <paramref name="sequence"/>, or null when the stream does not hold it.</summary>
    public async Task<byte[]?> GetAsync(long sequence, CancellationToken ct)
    {
        if (sequence < 1)
        {
            return null;
        }

        var consumer = await js.CreateOrderedConsumerAsync(stream, Options(sequence), ct);
        var msg = await consumer.NextAsync<byte[]>(opts: new NatsJSNextOpts { Expires = TimeSpan.FromSeconds(1) }, cancellationToken: ct);
        return msg is { Metadata: { } meta } && (long)meta.Sequence.Stream == sequence ? msg.Data ?? [] : null;
    }

    private Channel<JournalRecord> At(long sequence)
    {
        lock (_gate)
        {
            if (_records is { } current && _expected == sequence && _loop is { IsCompleted: false })
            {
                return current;
            }

            _stop?.Cancel();
            _stop?.Dispose();
            _stop = new CancellationTokenSource();
            _records = Channel.CreateBounded<JournalRecord>(new BoundedChannelOptions(ReadAhead) { SingleReader = true, SingleWriter = true });
            _expected = sequence;
            _last = null;
            _loop = FollowAsync(sequence, _records.Writer, _stop.Token);
            return _records;
        }
    }

    private async Task FollowAsync(long sequence, ChannelWriter<JournalRecord> writer, CancellationToken ct)
    {
        await Task.Yield();
        try
        {
            var consumer = await js.CreateOrderedConsumerAsync(stream, Options(sequence), ct);
            await foreach (var msg in consumer.ConsumeAsync<byte[]>(cancellationToken: ct))
            {
                var at = (long)msg.Metadata!.Value.Sequence.Stream;
                var data = msg.Data ?? [];
                await writer.WriteAsync(new JournalRecord(new JournalPosition(at, 0), new JournalPosition(at + 1, 0), data, Crc32.HashToUInt32(data)), ct);
            }

            writer.TryComplete(new IOException($"Reading JetStream stream {stream} ended."));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            writer.TryComplete();
        }
        catch (Exception ex)
        {
            writer.TryComplete(new IOException($"Reading JetStream stream {stream} failed: {ex.Message}", ex));
        }
    }

    private static NatsJSOrderedConsumerOpts Options(long sequence) => new()
    {
        DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence,
        OptStartSeq = (ulong)sequence,
    };

    public async ValueTask DisposeAsync()
    {
        Task? loop;
        lock (_gate)
        {
            _stop?.Cancel();
            loop = _loop;
        }

        if (loop is not null)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stop?.Dispose();
    }
}
