using System.Globalization;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using DeskSync.Core.Journal;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace DeskSync.Nats;

/// <summary>
/// A data source's journal as a replicated JetStream stream: an append completes only once
/// JetStream acknowledged the record, which for a replicated stream means a quorum of its
/// servers hold it. A record's position is its stream sequence (segment = sequence, offset 0), so
/// the applier's checkpoint format is the local journal's. Every record carries a message id (the
/// hash of its bytes): a delivery Zoho sends again, to this process or another, within the stream's
/// de-duplication window is stored once. The id of the journal is the stream's name and a random id
/// kept in its description (not its creation time: each server records its own), so that a
/// target's checkpoint taken from a stream since deleted and made again is told apart.
/// </summary>
public sealed class JetStreamJournal : IJournal
{
    private readonly NatsJSContext _js;
    private readonly JetStreamJournalOptions _options;
    private readonly JetStreamFollower _follower;
    private long _pendingBytes;
    private long _end;
    private long _first;
    private long _bytes;
    private long _messages;
    private long _purgedBelow;
    private DateTimeOffset _lastPurge = DateTimeOffset.MinValue;

    /// <summary>The stream's description starts with this, then the journal's id: it is part of the stream's replicated configuration, so every server gives the same.</summary>
    private const string Marker = "DeskSync journal ";

    private JetStreamJournal(NatsJSContext js, JetStreamJournalOptions options, StreamInfo info)
    {
        _js = js;
        _options = options;
        Id = $"{options.Stream}@{info.Config.Description![Marker.Length..]}";
        Location = $"JetStream stream {options.Stream}";
        Observe(info.State);
        _follower = new JetStreamFollower(js, options.Stream);
    }

    public string Id { get; }

    public string Location { get; }

    public JournalPosition End => new(Interlocked.Read(ref _end), 0);

    public JournalPosition First => new(Interlocked.Read(ref _first), 0);

    public long PendingBytes => Interlocked.Read(ref _pendingBytes);

    /// <summary>Opens the stream of <paramref name="options"/>, making it (replicated, file-backed) when it does not exist yet.</summary>
    public static async Task<JetStreamJournal> OpenAsync(INatsConnection connection, JetStreamJournalOptions options, CancellationToken ct)
    {
        var js = new NatsJSContext((NatsConnection)connection);
        INatsJSStream stream;
        try
        {
            stream = await js.GetStreamAsync(options.Stream, cancellationToken: ct);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            try
            {
                stream = await js.CreateStreamAsync(new StreamConfig(options.Stream, [options.Subject])
                {
                    Description = Marker + Guid.NewGuid().ToString("N"),
                    Retention = StreamConfigRetention.Limits,
                    Discard = StreamConfigDiscard.New, // never drop an unapplied event to make room: refuse new ones (Zoho retries)
                    Storage = StreamConfigStorage.File,
                    NumReplicas = options.Replicas,
                    DuplicateWindow = options.DuplicateWindow,
                    MaxMsgSize = options.MaxRecordBytes,
                }, ct);
            }
            catch (NatsJSApiException)
            {
                // Another process made it at the same moment (with an id of its own): its stream is the one.
                stream = await MadeByAnotherAsync(js, options.Stream, ct);
            }
        }

        if (stream.Info.Config.Description is not { } description || !description.StartsWith(Marker, StringComparison.Ordinal))
        {
            // A stream made by hand: it is given an id once (whoever does it first), kept from then on.
            var config = stream.Info.Config;
            config.Description = Marker + Guid.NewGuid().ToString("N");
            await js.UpdateStreamAsync(config, ct);
            stream = await js.GetStreamAsync(options.Stream, cancellationToken: ct);
        }

        return new JetStreamJournal(js, options, stream.Info);
    }

    /// <summary>The stream another process is making: it answers once its servers chose a leader.</summary>
    private static async Task<INatsJSStream> MadeByAnotherAsync(NatsJSContext js, string name, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await js.GetStreamAsync(name, cancellationToken: ct);
            }
            catch (Exception ex) when (attempt < 20 && ex is NatsJSApiNoResponseException or NatsJSApiException { Error.Code: 404 or 503 })
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
            }
        }
    }

    public async Task<JournalPosition> AppendAsync(byte[] payload, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Add(ref _pendingBytes, payload.Length) > _options.MaxPendingBytes)
        {
            Interlocked.Add(ref _pendingBytes, -payload.Length);
            throw new JournalUnavailableException("The journal is behind: too much waits for JetStream to acknowledge it.");
        }

        try
        {
            var ack = await _js.PublishAsync(_options.Subject, payload, opts: new NatsJSPubOpts { MsgId = MessageId(payload) }, cancellationToken: cancellationToken);
            if (ack.Error is { } error)
            {
                throw new JournalUnavailableException($"JetStream refused the record ({error.Description}, code {error.Code}); nothing was acknowledged to Zoho, which sends it again.");
            }

            // A duplicate (a delivery sent again, to this process or another) answers with the sequence it was stored at.
            Advance((long)ack.Seq + 1);
            return new JournalPosition((long)ack.Seq, 0);
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException)
        {
            throw new JournalUnavailableException($"JetStream did not acknowledge the record ({ex.Message}); nothing was acknowledged to Zoho, which sends it again.", ex);
        }
        finally
        {
            Interlocked.Add(ref _pendingBytes, -payload.Length);
        }
    }

    /// <summary>The same bytes give the same id, so JetStream stores a repeated delivery once.</summary>
    internal static string MessageId(byte[] payload) => Convert.ToHexStringLower(SHA256.HashData(payload));

    public async IAsyncEnumerable<JournalRecord> ReadAsync(JournalPosition from, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await RefreshAsync(cancellationToken);
        var end = Interlocked.Read(ref _end);
        var first = Interlocked.Read(ref _first);
        // From the start means from the oldest record held; from anywhere else, records before the
        // oldest held were let go of before they were read: never skipped in silence.
        var next = from.Segment <= 1 ? Math.Max(1, first) : from.Segment;
        if (next < first && next < end)
        {
            throw new JournalDamagedException(string.Create(CultureInfo.InvariantCulture,
                $"Records {next} to {first - 1} of JetStream stream {_options.Stream} were removed before they were applied (by hand, or by a limit set on the stream). Nothing after them was applied or skipped. Run `desksync journal rebaseline --journal …`: it reads from Zoho what changed since the last applied event."));
        }

        while (next < end)
        {
            var record = await _follower.NextAsync(next, cancellationToken);
            next = record.Next.Segment;
            yield return record;
        }
    }

    public async Task WaitForDataAsync(JournalPosition position, CancellationToken cancellationToken)
    {
        while (Interlocked.Read(ref _end) <= position.Segment)
        {
            // The follower reads ahead: a record it holds is a record journaled.
            if (await _follower.WaitAsync(position.Segment, _options.RefreshEvery, cancellationToken))
            {
                return;
            }

            await RefreshAsync(cancellationToken);
        }
    }

    public async Task DeleteBeforeAsync(JournalPosition applied, DateTimeOffset? writtenBefore, CancellationToken cancellationToken)
    {
        // The record just before the applied position is kept: the checkpoint names it.
        var keepFrom = applied.Segment - 1;
        var now = DateTimeOffset.UtcNow;
        // Nothing below the oldest record held is left to purge; and a purge "below 1" would empty
        // the whole stream (JetStream reads sequence 1 as no sequence given).
        if (keepFrom <= Math.Max(_purgedBelow, Interlocked.Read(ref _first)) || (keepFrom - _purgedBelow < _options.PurgeEvery && now - _lastPurge < _options.PurgeInterval))
        {
            return;
        }

        await _js.PurgeStreamAsync(_options.Stream, new StreamPurgeRequest { Seq = (ulong)keepFrom }, cancellationToken);
        _purgedBelow = keepFrom;
        _lastPurge = now;
    }

    public async Task<JournalView> ViewAsync(JournalPosition? recordAt, CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken);
        uint? crc = null;
        if (recordAt is { } at && await _follower.GetAsync(at.Segment, cancellationToken) is { } payload)
        {
            crc = Crc32.HashToUInt32(payload);
        }

        return new JournalView(Id, Location, End, Interlocked.Read(ref _first))
        {
            RecordCheck = (position, expected) => position == recordAt && crc == expected,
        };
    }

    public long BytesAfter(JournalPosition position)
    {
        var end = Interlocked.Read(ref _end);
        var messages = Interlocked.Read(ref _messages);
        var waiting = Math.Max(0, end - Math.Max(position.Segment, Interlocked.Read(ref _first)));
        return messages == 0 || waiting == 0 ? 0 : Interlocked.Read(ref _bytes) * Math.Min(waiting, messages) / messages;
    }

    public JournalRecord? Peek(JournalPosition from) => _follower.Peek(from.Segment);

    private async Task RefreshAsync(CancellationToken ct)
    {
        var stream = await _js.GetStreamAsync(_options.Stream, cancellationToken: ct);
        Observe(stream.Info.State);
    }

    private void Observe(StreamState state)
    {
        Advance((long)state.LastSeq + 1);
        Interlocked.Exchange(ref _first, Math.Max(1, (long)state.FirstSeq));
        Interlocked.Exchange(ref _bytes, (long)state.Bytes);
        Interlocked.Exchange(ref _messages, (long)state.Messages);
    }

    private void Advance(long end)
    {
        long seen;
        while ((seen = Interlocked.Read(ref _end)) < end && Interlocked.CompareExchange(ref _end, end, seen) != seen)
        {
        }
    }

    public async ValueTask DisposeAsync() => await _follower.DisposeAsync();
}
