using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Retry;

namespace DeskSync.ZohoDesk.Api;

/// <summary>
/// The HTTP stack under <see cref="DeskClient"/>: a Polly pipeline (concurrency limit, then
/// retries driven by <see cref="ZohoErrorTable"/> with Retry-After honoured, then a per-attempt
/// timeout) over a handler that records every attempt's cost in the <see cref="ApiCallLog"/>.
/// </summary>
public static class DeskHttp
{
    internal static readonly HttpRequestOptionsKey<string> LabelKey = new("desksync.label");

    /// <summary>Delays the retry strategy waited, for tests and diagnostics.</summary>
    public delegate void RetryObserver(int attempt, TimeSpan delay, string reason);

    public static HttpClient CreateClient(DeskClientOptions options, ApiCallLog log, TimeProvider? time = null, HttpMessageHandler? inner = null, RetryObserver? onRetry = null)
    {
        var pipeline = BuildPipeline(options, time ?? TimeProvider.System, onRetry);
        var recorder = new CallRecordingHandler(log, options.MaxAnswerBytes) { InnerHandler = inner ?? CreateTransport() };
        var resilience = new ResilienceHandler(pipeline) { InnerHandler = recorder };
        return new HttpClient(resilience) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The connection handler: pooled connections, renewed every five minutes (DNS changes).</summary>
    public static SocketsHttpHandler CreateTransport() => new() { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };

    public static ResiliencePipeline<HttpResponseMessage> BuildPipeline(DeskClientOptions options, TimeProvider time, RetryObserver? onRetry = null) =>
        new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddConcurrencyLimiter(options.MaxConcurrency, int.MaxValue)
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                ShouldHandle = args => ShouldRetryAsync(args.Outcome, options, time, args.Context.CancellationToken),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, time)),
                OnRetry = args =>
                {
                    onRetry?.Invoke(args.AttemptNumber, args.RetryDelay, args.Outcome.Exception is { } ex ? ex.Message.TrimEnd('.') : $"HTTP {(int?)args.Outcome.Result?.StatusCode}");
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();

    private static async ValueTask<bool> ShouldRetryAsync(Outcome<HttpResponseMessage> outcome, DeskClientOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (outcome.Exception is not null)
        {
            // Dropped connections and per-attempt timeouts; not the caller's own cancellation.
            return outcome.Exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException
                || (outcome.Exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);
        }

        var response = outcome.Result!;
        if (response.IsSuccessStatusCode || (int)response.StatusCode < 400)
        {
            return false;
        }

        var code = await ReadErrorCodeAsync(response, cancellationToken);
        var action = ZohoErrorTable.Classify(response.StatusCode, code).Action;
        return action switch
        {
            ZohoAction.Retry => true,
            ZohoAction.RetryIfShortWait => RetryAfter(response, time) is { } wait && wait <= options.MaxRetryAfterWait,
            _ => false,
        };
    }

    /// <summary>Zoho's errorCode from an error body; the body stays readable afterwards.</summary>
    public static async Task<string?> ReadErrorCodeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (text.Length == 0 || text[0] != '{')
            {
                return null;
            }

            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.TryGetProperty("errorCode", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeProvider? time = null)
    {
        if (response?.Headers.RetryAfter is not { } header)
        {
            return null;
        }

        if (header.Delta is { } delta)
        {
            return delta;
        }

        return header.Date is { } date ? date - (time ?? TimeProvider.System).GetUtcNow() : null;
    }

    /// <summary>
    /// Counts every attempt, reads its answer whole inside the attempt, and asks for compressed
    /// answers. A page of complete tickets is hundreds of KB of JSON, and many pages are in flight at
    /// once; compressed, it is a fraction of that for little CPU. Whether Zoho compresses is
    /// unknown, and asking costs nothing if it does not. The answer is inflated
    /// here rather than by the transport so that the log can tell which answers came compressed
    /// (<see cref="ApiCallLog.CompressedAnswers"/>: `desksync check` and `sync` report it).
    /// </summary>
    private sealed class CallRecordingHandler(ApiCallLog log, long maxAnswerBytes) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Options.TryGetValue(LabelKey, out var label);
            label ??= "other";
            if (request.Headers.AcceptEncoding.Count == 0)
            {
                request.Headers.AcceptEncoding.Add(new("gzip"));
                request.Headers.AcceptEncoding.Add(new("br"));
            }

            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException)
            {
                log.Record(label, 0, null, null);
                throw;
            }

            var weight = Header(response, "X-Rate-Limit-Request-Weight-v3");
            log.Record(label, (int)response.StatusCode, weight is { } w ? (int)Math.Min(w, int.MaxValue) : null, Header(response, "X-Rate-Limit-Remaining-v3"));
            try
            {
                // The body is read here, inside the attempt: a connection cut or stalled halfway
                // through an answer is retried under the attempt's timeout like one that never
                // answered (HttpClient would otherwise read it after the retries, with no timeout).
                // The call is counted once, as Zoho counts it, whether its body arrives or not.
                await response.Content.LoadIntoBufferAsync(maxAnswerBytes, cancellationToken);
                // "identity" is no encoding at all (RFC 9110 discourages sending it; a server may).
                if (response.Content.Headers.ContentEncoding.Any(e => !e.Equals("identity", StringComparison.OrdinalIgnoreCase)))
                {
                    response.Content = await InflateAsync(response.Content, maxAnswerBytes, cancellationToken);
                    log.RecordCompressed(response.Content.Headers.ContentLength ?? 0);
                }
            }
            catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConfigurationLimitExceeded)
            {
                // Not a dropped connection: the same answer would come again, so it is not retried.
                response.Dispose();
                throw new UnusableAnswerException(string.Create(CultureInfo.InvariantCulture,
                    $"with more than {maxAnswerBytes / (1024.0 * 1024):N0} MB of JSON (decompressed), more than DeskSync accepts in one answer (DeskClientOptions.MaxAnswerBytes); a page of 100 records is normally well under 1 MB."), ex);
            }
            catch
            {
                response.Dispose();
                throw;
            }

            return response;
        }

        /// <summary>
        /// The answer's content decompressed, with its other headers; at most
        /// <paramref name="max"/> bytes. A body that does not decompress (corrupt on the way)
        /// fails the attempt as a transport error, which is retried. Deflate, which DeskSync does
        /// not ask for, is decoded all the same (a proxy may re-encode answers), whether it comes
        /// zlib-wrapped, as RFC 9110 says, or raw, as some servers send it; an encoding that no
        /// decoder here knows fails without retries (<see cref="UnusableAnswerException"/>): whatever
        /// sent it would send it again, and each retry would cost the call's credits for nothing.
        /// </summary>
        private static async Task<HttpContent> InflateAsync(HttpContent compressed, long max, CancellationToken ct)
        {
            var encoding = compressed.Headers.ContentEncoding.Last().ToLowerInvariant();
            if (compressed.Headers.ContentEncoding.Count > 1 || encoding is not ("gzip" or "br" or "deflate"))
            {
                throw new UnusableAnswerException($"with Content-Encoding \"{string.Join(", ", compressed.Headers.ContentEncoding)}\", which DeskSync cannot decode (it asks for gzip or br, and reads deflate too). A proxy between DeskSync and Zoho may be re-encoding the answers.");
            }

            // Straight into a pooled array (a page inflates to ~330 KB: a fresh array a page, and the
            // copies of a growing MemoryStream, would be large-object-heap work on every call).
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Clamp((compressed.Headers.ContentLength ?? 8192) * 8, 8192, Math.Min(max, 1 << 24)));
            var length = 0;
            try
            {
                await using var source = await compressed.ReadAsStreamAsync(ct);
                await using var decoder = await DecoderAsync(encoding, source, ct);
                int read;
                while ((read = await decoder.ReadAsync(buffer.AsMemory(length), ct)) > 0)
                {
                    length += read;
                    if (length > max)
                    {
                        throw new HttpRequestException(HttpRequestError.ConfigurationLimitExceeded, $"The answer inflates to more than {max:N0} bytes.");
                    }

                    if (length == buffer.Length)
                    {
                        var larger = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, Array.MaxLength));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                }
            }
            catch (Exception ex)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                if (ex is InvalidDataException)
                {
                    throw new HttpRequestException($"Zoho Desk's {encoding} answer did not decompress: {ex.Message}", ex);
                }

                throw;
            }

            var content = new PooledContent(buffer, length);
            foreach (var (name, values) in compressed.Headers)
            {
                if (name is not ("Content-Encoding" or "Content-Length"))
                {
                    content.Headers.TryAddWithoutValidation(name, values);
                }
            }

            compressed.Dispose();
            return content;
        }

        private static async Task<Stream> DecoderAsync(string encoding, Stream source, CancellationToken ct)
        {
            const System.IO.Compression.CompressionMode Decompress = System.IO.Compression.CompressionMode.Decompress;
            switch (encoding)
            {
                case "gzip":
                    return new System.IO.Compression.GZipStream(source, Decompress);
                case "br":
                    return new System.IO.Compression.BrotliStream(source, Decompress);
                default:
                    // A zlib stream opens with two bytes that name the deflate method and whose
                    // big-endian value is a multiple of 31 (RFC 1950); raw deflate has no header.
                    var head = new byte[2];
                    var read = await source.ReadAtLeastAsync(head, 2, throwOnEndOfStream: false, ct);
                    source.Position = 0; // the answer is buffered whole (LoadIntoBufferAsync), so its stream seeks
                    var zlib = read == 2 && (head[0] & 0x0F) == 8 && ((head[0] << 8) | head[1]) % 31 == 0;
                    return zlib ? new System.IO.Compression.ZLibStream(source, Decompress) : new System.IO.Compression.DeflateStream(source, Decompress);
            }
        }

        private static long? Header(HttpResponseMessage response, string name) =>
            response.Headers.TryGetValues(name, out var values) && long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
                ? v
                : null;
    }
}

/// <summary>An inflated answer in a pooled array, given back when the answer is disposed.</summary>
internal sealed class PooledContent(byte[] buffer, int length) : HttpContent
{
    private byte[]? _buffer = buffer;

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
        stream.WriteAsync(Bytes(), 0, length);

    protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new MemoryStream(Bytes(), 0, length, writable: false));

    protected override bool TryComputeLength(out long computed)
    {
        computed = length;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _buffer, null) is { } rented)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }

        base.Dispose(disposing);
    }

    private byte[] Bytes() => _buffer ?? throw new ObjectDisposedException(nameof(PooledContent));
}

/// <summary>
/// An answer that arrived whole but cannot be used, and would come the same again: larger than
/// <see cref="DeskClientOptions.MaxAnswerBytes"/> once decompressed, or in an encoding DeskSync
/// cannot decode. Not retried; the message says what it was, after "Zoho Desk answered GET path".
/// </summary>
internal sealed class UnusableAnswerException(string what, Exception? inner = null) : Exception(what, inner);
