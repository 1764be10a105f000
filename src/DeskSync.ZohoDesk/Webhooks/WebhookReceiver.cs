using System.Buffers;
using System.Globalization;
using System.Text;
using DeskSync.Core.Journal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeskSync.ZohoDesk.Webhooks;

public sealed record WebhookReceiverOptions
{
    public required string Token { get; init; }

    /// <summary>Events of any other portal are refused.</summary>
    public required string OrgId { get; init; }

    public long MaxBodyBytes { get; init; } = 1 << 20;

    /// <summary>Where malformed and refused bodies are kept for inspection.</summary>
    public required string QuarantineDirectory { get; init; }

    public int QuarantineMaxFiles { get; init; } = 1_000;

    /// <summary>When set, a delivery without a valid X-ZDesk-JWT is refused with 401.</summary>
    public WebhookJwtVerifier? Jwt { get; init; }

    /// <summary>The events journaled lately: a repeat of one is acknowledged without journaling it again.</summary>
    public ReceivedEvents Received { get; init; } = new(ReceivedEvents.DefaultWindow, ReceivedEvents.DefaultCapacity);

    /// <summary>The clock a workflow rule's call is timed by and quarantined files are named by.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// The service URL: answers Zoho's validation probes (GET, HEAD, POST without events) with 200,
/// journals every accepted delivery durably before answering 200, and refuses what it cannot
/// keep: a malformed body (400, quarantined), another portal's events (403, quarantined), an
/// oversized body (413), a journal that is full or failing (503, so that Zoho retries). Events it
/// journaled already (Zoho sends a delivery again when our 200 came late) are acknowledged and
/// counted, not journaled again. An unknown token gets the same empty 404 as an unknown path.
/// </summary>
public sealed class WebhookReceiver(IJournal journal, WebhookReceiverOptions options, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly Quarantine _quarantine = new(options.QuarantineDirectory, options.QuarantineMaxFiles, options.Time);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, long> _refusedByStatus = new();

    public long Received;
    public long Accepted;
    public long EventsAccepted;
    public long Refused;
    public long Duplicates;

    public long Quarantined => _quarantine.Count;

    /// <summary>Every refused delivery by the status it got (400, 401, 403, 413, 503).</summary>
    public IReadOnlyDictionary<int, long> RefusedByStatus => _refusedByStatus;

    /// <summary>Raised when Zoho checks the service URL (a webhook being created or changed).</summary>
    public event Action? Validated;

    /// <summary>The service URL's token: the server routes a request to this receiver by it.</summary>
    public string Token => options.Token;

    /// <summary>A request to the service URL (the server matched its token).</summary>
    public Task HandleAsync(HttpContext ctx) => ctx.Request.Method switch
    {
        "GET" or "HEAD" => Probe(ctx),
        "POST" => ReceiveAsync(ctx),
        _ => NotAllowed(ctx),
    };

    /// <summary>A request to the service URL's workflow path (the server matched its token).</summary>
    public Task HandleWorkflowAsync(HttpContext ctx) => ctx.Request.Method == "POST" ? ReceiveWorkflowAsync(ctx) : NotAllowed(ctx);

    /// <summary>
    /// A workflow rule's webhook or a custom function's invokeurl posts whatever the user typed:
    /// find the record (an id field, or a 15–19 digit number in a message such as Cliq's "text")
    /// and journal a refresh of it; the applier re-reads the record from the API.
    /// </summary>
    private async Task ReceiveWorkflowAsync(HttpContext ctx)
    {
        Interlocked.Increment(ref Received);
        var body = await ReadBodyAsync(ctx);
        if (body is null)
        {
            await Refuse(ctx, StatusCodes.Status413PayloadTooLarge, $"the body is larger than {options.MaxBodyBytes} bytes", null);
            return;
        }

        var fields = WorkflowBody.Fields(body, ctx.Request.ContentType);
        var (module, id) = WorkflowBody.FindRecord(fields);
        if (id is null)
        {
            await Refuse(ctx, StatusCodes.Status400BadRequest, "no record id found: send id (or ticketId, contactId, accountId, taskId) and optionally module, or a message holding the record id", body);
            return;
        }

        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var synthetic = $"[{{\"eventType\":\"{module}_Refresh\",\"orgId\":\"{options.OrgId}\",\"eventTime\":\"{now}\",\"payload\":{{\"id\":\"{id}\"}}}}]";
        try
        {
            await journal.AppendAsync(Encoding.UTF8.GetBytes(synthetic), ctx.RequestAborted);
        }
        catch (JournalUnavailableException)
        {
            await Unavailable(ctx);
            return;
        }

        Interlocked.Increment(ref Accepted);
        Interlocked.Increment(ref EventsAccepted);
        await Answer(ctx, StatusCodes.Status200OK, null, 1);
    }

    private static Task NotAllowed(HttpContext ctx)
    {
        ctx.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        return Task.CompletedTask;
    }

    private Task Probe(HttpContext ctx)
    {
        ctx.Response.StatusCode = StatusCodes.Status200OK;
        Validated?.Invoke();
        return Task.CompletedTask;
    }

    private async Task ReceiveAsync(HttpContext ctx)
    {
        Interlocked.Increment(ref Received);
        var body = await ReadBodyAsync(ctx); // null past the limit, before reading when the length is given
        if (body is null)
        {
            await Refuse(ctx, StatusCodes.Status413PayloadTooLarge, $"the body is larger than {options.MaxBodyBytes} bytes", null);
            return;
        }

        var parsed = WebhookBody.Parse(body);
        if (options.Jwt is not null && parsed.Kind != BodyKind.Probe)
        {
            var check = await options.Jwt.VerifyAsync(ctx.Request.Headers["X-ZDesk-JWT"].ToString(), ctx.RequestAborted);
            if (!check.Valid)
            {
                _logger.LogWarning("Refused a delivery: {Reason}.", check.Reason);
                await Refuse(ctx, StatusCodes.Status401Unauthorized, check.Reason!, body);
                return;
            }
        }

        switch (parsed.Kind)
        {
            case BodyKind.Probe:
                ctx.Response.StatusCode = StatusCodes.Status200OK;
                Validated?.Invoke();
                return;
            case BodyKind.Malformed:
                await Refuse(ctx, StatusCodes.Status400BadRequest, parsed.Reason!, body);
                return;
        }

        var foreign = parsed.Events.FirstOrDefault(e => e.OrgId is not null && e.OrgId != options.OrgId);
        if (foreign is not null)
        {
            _logger.LogWarning("Refused a delivery for org {OrgId}; this service URL belongs to org {Expected}.", foreign.OrgId, options.OrgId);
            await Refuse(ctx, StatusCodes.Status403Forbidden, $"events for org {foreign.OrgId} are not accepted here", body);
            return;
        }

        var claim = options.Received.Claim(parsed.Events);
        if (claim.Fresh.Count > 0)
        {
            try
            {
                // Not cancelled with the request: an append that completes after the caller left is in
                // the journal all the same, and must be remembered as such.
                await journal.AppendAsync(claim.Fresh.Count == parsed.Events.Count ? body : Without(parsed, claim), CancellationToken.None);
                options.Received.Journaled(claim);
            }
            catch (JournalUnavailableException ex)
            {
                options.Received.Failed(claim);
                _logger.LogError("Could not journal a delivery: {Message}", ex.Message);
                await Unavailable(ctx);
                return;
            }
        }

        // Repeats of events another delivery is journaling right now are acknowledged only once that append succeeded.
        if (claim.Waits.Count > 0 && (await Task.WhenAll(claim.Waits)).Contains(false))
        {
            await Unavailable(ctx);
            return;
        }

        Interlocked.Increment(ref Accepted);
        Interlocked.Add(ref EventsAccepted, claim.Fresh.Count);
        Interlocked.Add(ref Duplicates, claim.Repeats);
        await Answer(ctx, StatusCodes.Status200OK, null, claim.Fresh.Count, claim.Repeats);
    }

    private Task Unavailable(HttpContext ctx)
    {
        Interlocked.Increment(ref Refused);
        _refusedByStatus.AddOrUpdate(StatusCodes.Status503ServiceUnavailable, 1, (_, n) => n + 1);
        ctx.Response.Headers.RetryAfter = "5";
        return Answer(ctx, StatusCodes.Status503ServiceUnavailable, "the journal cannot take this delivery now; retry later");
    }

    /// <summary>The delivery rewritten with only the events this receiver has not journaled yet.</summary>
    private static byte[] Without(ParsedBody parsed, Claim claim)
    {
        using var buffer = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var i in claim.Fresh)
            {
                parsed.Events[i].Raw.WriteTo(writer);
            }

            writer.WriteEndArray();
        }

        return buffer.ToArray();
    }

    private async Task<byte[]?> ReadBodyAsync(HttpContext ctx)
    {
        var feature = ctx.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
        {
            feature.MaxRequestBodySize = options.MaxBodyBytes;
        }

        try
        {
            // Zoho and most senders give a Content-Length: the body is read straight into an array of that size.
            if (ctx.Request.ContentLength is { } length)
            {
                if (length > options.MaxBodyBytes)
                {
                    return null;
                }

                var body = new byte[length];
                await ctx.Request.Body.ReadExactlyAsync(body, ctx.RequestAborted);
                return body;
            }

            return await ReadChunkedAsync(ctx.Request.Body, ctx.RequestAborted);
        }
        catch (BadHttpRequestException)
        {
            return null;
        }
    }

    /// <summary>A body of unknown length, read up to the limit.</summary>
    private async Task<byte[]?> ReadChunkedAsync(Stream input, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await input.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > options.MaxBodyBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }

    private async Task Refuse(HttpContext ctx, int status, string reason, byte[]? body)
    {
        Interlocked.Increment(ref Refused);
        _refusedByStatus.AddOrUpdate(status, 1, (_, n) => n + 1);
        if (body is not null)
        {
            Quarantine(body, status, reason);
        }

        await Answer(ctx, status, reason);
    }

    private void Quarantine(byte[] body, int status, string reason)
    {
        try
        {
            _quarantine.Keep(body, "refused", $"HTTP {status}: {reason}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Could not quarantine a refused body: {Message}", ex.Message);
        }
    }

    private static Task Answer(HttpContext ctx, int status, string? error, int accepted = 0, int duplicates = 0)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        var body = Encoding.UTF8.GetBytes(error is null
            ? duplicates == 0
                ? $"{{\"accepted\":{accepted.ToString(CultureInfo.InvariantCulture)}}}"
                : $"{{\"accepted\":{accepted.ToString(CultureInfo.InvariantCulture)},\"duplicates\":{duplicates.ToString(CultureInfo.InvariantCulture)}}}"
            : $"{{\"error\":{System.Text.Json.JsonSerializer.Serialize(error)}}}");
        ctx.Response.ContentLength = body.Length; // one plain response, not a chunked one
        return ctx.Response.Body.WriteAsync(body).AsTask();
    }
}
