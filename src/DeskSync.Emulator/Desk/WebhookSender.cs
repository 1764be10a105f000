using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace DeskSync.Emulator.Desk;

/// <summary>
/// Zoho's side of webhooks: the validation GET (then POST) when a webhook is created, and on
/// every change of a subscribed module a POST of a JSON array of events in Zoho's shape
/// (eventType, orgId, eventTime as epoch-ms string, payload, prevState when asked). Deliveries
/// to one webhook keep their order; a failed one is retried a few times with backoff and then
/// dropped (Zoho's retry policy is unknown); 410 Gone deletes the subscription.
/// </summary>
public sealed class WebhookSender : IAsyncDisposable
{
    private readonly System.Security.Cryptography.RSA _key = System.Security.Cryptography.RSA.Create(2048);
    private readonly string _keyId = "desksync-emulator-" + Guid.NewGuid().ToString("N")[..8];
    private readonly OpenApi.OpenApiCatalog _catalog = OpenApi.OpenApiCatalog.Instance;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (RegisteredWebhook Hook, Task Loop)> _hooks = new(StringComparer.Ordinal);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly CancellationTokenSource _stop = new();
    private readonly Portal _portal;
    private readonly EmulatorOptions _options;
    private long _pending;
    private long _nextId = 7_000_000_000_000L;

    private readonly OpenApi.SchemaShaper _shaper;

    public WebhookSender(Portal portal, EmulatorOptions options)
    {
        _shaper = new(OpenApi.OpenApiCatalog.Instance, options.AnswerSpread);
        _portal = portal;
        _options = options;
        portal.Changed += OnChanged;
    }

    public DeleteEventStyle DeleteStyle { get; set; } = DeleteEventStyle.DeleteEvent;

    /// <summary>Sign deliveries with X-ZDesk-JWT (RS256; keys at /.well-known/jwks.json).</summary>
    public bool SignDeliveries { get; set; } = true;

    /// <summary>The JSON Web Key Set Zoho publishes at https://{desk host}/.well-known/jwks.json.</summary>
    public JsonObject Jwks()
    {
        var p = _key.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["kty"] = "RSA",
                ["use"] = "sig",
                ["alg"] = "RS256",
                ["kid"] = _keyId,
                ["n"] = Base64Url(p.Modulus!),
                ["e"] = Base64Url(p.Exponent!),
            }),
        };
    }

    /// <summary>An RS256 JWT as Zoho sends it (facts page §5): iss orgId:…, aud webhookId:…, iat/exp in seconds.</summary>
    public string Sign(string webhookId, TimeSpan? lifetime = null)
    {
        var now = _options.Time.GetUtcNow().ToUnixTimeSeconds();
        var header = new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT", ["kid"] = _keyId };
        var claims = new JsonObject
        {
            ["iss"] = "orgId:" + _portal.OrgId,
            ["aud"] = "webhookId:" + webhookId,
            ["iat"] = now,
            ["exp"] = now + (long)(lifetime ?? TimeSpan.FromMinutes(5)).TotalSeconds,
        };
        var signingInput = Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public int MaxAttempts { get; set; } = 4;

    public long Delivered;
    public long EventsDelivered;
    public long Failed;
    public long EventsDropped;

    public IReadOnlyList<RegisteredWebhook> Webhooks
    {
        get
        {
            lock (_gate)
            {
                return [.. _hooks.Values.Select(h => h.Hook)];
            }
        }
    }

    /// <summary>Zoho sends GET, then POST if GET fails; creation fails if neither answers 200.</summary>
    public async Task<bool> ValidateAsync(Uri url, CancellationToken ct)
    {
        try
        {
            using var get = await _http.GetAsync(url, ct);
            if ((int)get.StatusCode == 200)
            {
                return true;
            }
        }
        catch (HttpRequestException)
        {
        }
        catch (TaskCanceledException)
        {
        }

        try
        {
            using var post = await _http.PostAsync(url, new StringContent("", Encoding.UTF8, "application/json"), ct);
            return (int)post.StatusCode == 200;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException)
        {
            return false;
        }
    }

    public RegisteredWebhook Add(Uri url, JsonObject subscriptions, string? name, string? description, bool enabled, JsonArray? includeEventsFrom)
    {
        var hook = new RegisteredWebhook
        {
            Id = Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture),
            Url = url,
            Subscriptions = subscriptions,
            Name = name,
            Description = description,
            IsEnabled = enabled,
            IncludeEventsFrom = includeEventsFrom ?? [],
            CreatedTime = _options.Time.GetUtcNow(),
        };
        lock (_gate)
        {
            _hooks[hook.Id] = (hook, Task.Run(() => DeliverLoopAsync(hook)));
        }

        return hook;
    }

    public RegisteredWebhook? Get(string id)
    {
        lock (_gate)
        {
            return _hooks.TryGetValue(id, out var h) ? h.Hook : null;
        }
    }

    public bool Remove(string id)
    {
        lock (_gate)
        {
            if (!_hooks.Remove(id, out var h))
            {
                return false;
            }

            h.Hook.Queue.Writer.TryComplete();
            return true;
        }
    }

    /// <summary>Waits until every queued delivery was made or dropped.</summary>
    public async Task WaitIdleAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Interlocked.Read(ref _pending) > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Interlocked.Read(ref _pending)} webhook events still pending.");
            }

            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _portal.Changed -= OnChanged;
        await _stop.CancelAsync();
        Task[] loops;
        lock (_gate)
        {
            foreach (var h in _hooks.Values)
            {
                h.Hook.Queue.Writer.TryComplete();
            }

            loops = [.. _hooks.Values.Select(h => h.Loop)];
        }

        try
        {
            await Task.WhenAll(loops);
        }
        catch (OperationCanceledException)
        {
        }

        _http.Dispose();
        _stop.Dispose();
        _key.Dispose();
    }

    private void OnChanged(PortalChange change)
    {
        if (EmulatedChildren.Named(change.Module) is { } child)
        {
            OnChildChanged(child, change);
            return;
        }

        if (EmulatedModules.Named(change.Module)?.EventPrefix is not { } prefix)
        {
            return; // Products, Contracts, … have no webhook events.
        }

        var now = _options.Time.GetUtcNow();
        var (eventType, payload) = change.Kind switch
        {
            ChangeKind.Create => ($"{prefix}_Add", Shape(EmulatedModules.Named(change.Module)!.PayloadOperation, change.Record)),
            ChangeKind.Update => ($"{prefix}_Update", Shape(EmulatedModules.Named(change.Module)!.PayloadOperation, change.Record)),
            _ when DeleteStyle == DeleteEventStyle.UpdateWithDeletedFlag => ($"{prefix}_Update", new JsonObject
            {
                ["id"] = change.Record["id"]!.DeepClone(),
                ["isDeleted"] = true,
                ["modifiedTime"] = Portal.Iso(now),
            }),
            _ => ($"{prefix}_Delete", new JsonObject { ["id"] = change.Record["id"]!.DeepClone() }),
        };

        Enqueue(change, eventType, payload, now);
    }

    /// <summary>A thread's, comment's or attachment's event: its list item whole, with the ticket's id. Zoho declares no event for a child's delete, nor any for time entries.</summary>
    private void OnChildChanged(EmulatedChild child, PortalChange change)
    {
        var eventType = (change.Kind, child.EventPrefix) switch
        {
            (_, null) => null,
            (ChangeKind.Create, var prefix) => prefix + "_Add",
            (ChangeKind.Update, var prefix) when child.HasUpdateEvent => prefix + "_Update",
            _ => null,
        };
        if (eventType is null)
        {
            return;
        }

        var payload = Shape(child.ListOperation, change.Record);
        payload["ticketId"] = change.ParentId;
        Enqueue(change with { Previous = null }, eventType, payload, _options.Time.GetUtcNow());
    }

    private void Enqueue(PortalChange change, string eventType, JsonObject payload, DateTimeOffset now)
    {
        lock (_gate)
        {
            foreach (var (hook, _) in _hooks.Values)
            {
                if (!hook.IsEnabled || !hook.Subscriptions.TryGetPropertyValue(eventType, out var filter))
                {
                    continue;
                }

                var e = new JsonObject
                {
                    ["eventType"] = eventType,
                    ["orgId"] = _portal.OrgId,
                    ["eventTime"] = now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
                    ["payload"] = payload.DeepClone(),
                };
                if (change.Kind == ChangeKind.Update && filter?["includePrevState"]?.GetValue<bool>() == true && change.Previous is { } previous)
                {
                    var prev = new JsonObject { ["id"] = previous["id"]?.DeepClone() };
                    foreach (var (key, value) in previous)
                    {
                        if (!JsonNode.DeepEquals(value, change.Record[key]))
                        {
                            prev[key] = value?.DeepClone();
                        }
                    }

                    e["prevState"] = prev;
                }

                Interlocked.Increment(ref _pending);
                hook.Queue.Writer.TryWrite(e);
            }
        }
    }

    private JsonObject Shape(string operationId, JsonObject record)
    {
        var schema = _catalog.Get(operationId).ResponseSchema(_catalog, "200", out var file)!;
        return _shaper.Shape(new JsonObject { ["data"] = new JsonArray(record.DeepClone()) }, schema, file)!["data"]![0]!.DeepClone().AsObject();
    }

    private async Task DeliverLoopAsync(RegisteredWebhook hook)
    {
        var reader = hook.Queue.Reader;
        while (await reader.WaitToReadAsync(_stop.Token))
        {
            var batch = new JsonArray();
            while (batch.Count < 10 && reader.TryRead(out var e))
            {
                batch.Add(e);
            }

            var delivered = false;
            for (var attempt = 1; attempt <= MaxAttempts && !delivered && !_stop.IsCancellationRequested; attempt++)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, hook.Url)
                    {
                        Content = new StringContent(batch.ToJsonString(DeskApi.Json), Encoding.UTF8, "application/json"),
                    };
                    if (SignDeliveries)
                    {
                        request.Headers.Add("X-ZDesk-JWT", Sign(hook.Id));
                    }

                    using var response = await _http.SendAsync(request, _stop.Token);
                    if ((int)response.StatusCode == 410)
                    {
                        Remove(hook.Id);
                        break;
                    }

                    delivered = response.IsSuccessStatusCode;
                }
                catch (Exception e) when (e is HttpRequestException or System.Net.Sockets.SocketException or IOException)
                {
                    // Refused, reset or cut halfway (a reset right after connecting can surface as a bare SocketException): not delivered.
                }
                catch (TaskCanceledException) when (!_stop.IsCancellationRequested)
                {
                }

                if (!delivered && attempt < MaxAttempts)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100 * Math.Pow(2, attempt - 1)), _options.Time, _stop.Token);
                }
            }

            if (delivered)
            {
                Interlocked.Increment(ref Delivered);
                Interlocked.Add(ref EventsDelivered, batch.Count);
            }
            else
            {
                Interlocked.Increment(ref Failed);
                Interlocked.Add(ref EventsDropped, batch.Count);
            }

            Interlocked.Add(ref _pending, -batch.Count);
        }
    }
}
