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

    /// <summary>
    /// The connection handler: pooled connections renewed every five minutes (DNS changes), and
    /// compressed answers asked for. A page of 100 complete tickets is ~330 KB of JSON, which at
    /// 25 calls in flight and 150 ms a call needs ~440 Mbit/s; gzip makes it a sixth for 2–3 µs of
    /// CPU a ticket. Whether Zoho compresses is unknown; asking costs nothing if it does not.
    /// </summary>
    public static SocketsHttpHandler CreateTransport() => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AutomaticDecompression = System.Net.DecompressionMethods.GZip | System.Net.DecompressionMethods.Deflate | System.Net.DecompressionMethods.Brotli,
    };

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
                ShouldHandle = args => ShouldRetryAsync(args.Outcome, options, args.Context.CancellationToken),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
                OnRetry = args =>
                {
                    onRetry?.Invoke(args.AttemptNumber, args.RetryDelay, args.Outcome.Exception?.GetType().Name ?? $"HTTP {(int?)args.Outcome.Result?.StatusCode}");
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();

    private static async ValueTask<bool> ShouldRetryAsync(Outcome<HttpResponseMessage> outcome, DeskClientOptions options, CancellationToken cancellationToken)
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
            ZohoAction.RetryIfShortWait => RetryAfter(response) is { } wait && wait <= options.MaxRetryAfterWait,
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

    public static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        if (response?.Headers.RetryAfter is not { } header)
        {
            return null;
        }

        if (header.Delta is { } delta)
        {
            return delta;
        }

        return header.Date is { } date ? date - DateTimeOffset.UtcNow : null;
    }

    private sealed class CallRecordingHandler(ApiCallLog log, long maxAnswerBytes) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Options.TryGetValue(LabelKey, out var label);
            label ??= "other";
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
            }
            catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConfigurationLimitExceeded)
            {
                // Not a dropped connection: the same answer would come again, so it is not retried.
                response.Dispose();
                throw new AnswerTooLargeException(maxAnswerBytes, ex);
            }
            catch
            {
                response.Dispose();
                throw;
            }

            return response;
        }

        private static long? Header(HttpResponseMessage response, string name) =>
            response.Headers.TryGetValues(name, out var values) && long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
                ? v
                : null;
    }
}

/// <summary>An answer larger than <see cref="DeskClientOptions.MaxAnswerBytes"/> once decompressed.</summary>
internal sealed class AnswerTooLargeException(long limit, Exception inner)
    : Exception($"The answer is larger than {limit:N0} bytes.", inner)
{
    public long Limit { get; } = limit;
}
