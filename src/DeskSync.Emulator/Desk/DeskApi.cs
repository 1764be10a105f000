using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeskSync.Emulator.Accounts;
using DeskSync.Emulator.OpenApi;
using Microsoft.AspNetCore.Http;

namespace DeskSync.Emulator.Desk;

/// <summary>
/// GET /api/v1/… as Zoho Desk answers it: OAuth and orgId checked on every call, query
/// parameters checked against Zoho's OpenAPI files, offsets capped, 204 for an empty page,
/// answers cut to the OpenAPI response shapes, and the rate-limit headers on every answer.
/// </summary>
public sealed class DeskApi
{
    internal static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Page-size caps where Zoho's OpenAPI files give no maximum (facts page §2).</summary>
    private static readonly Dictionary<string, int> FallbackCaps =
        EmulatedModules.All.Where(m => m.ListCap > 0).Select(m => KeyValuePair.Create(m.ListOperation, m.ListCap))
            .Concat(EmulatedModules.All.Where(m => m.SearchOperation is not null).Select(m => KeyValuePair.Create(m.SearchOperation!, EmulatedModules.SearchCap)))
            .ToDictionary(StringComparer.Ordinal);

    private static readonly Dictionary<string, string> ListModules = EmulatedModules.All.ToDictionary(m => m.ListOperation, m => m.Name, StringComparer.Ordinal);

    private static readonly Dictionary<string, string> RecordModules = EmulatedModules.All.ToDictionary(m => m.RecordOperation, m => m.Name, StringComparer.Ordinal);

    private static readonly Dictionary<string, string> SearchModules =
        EmulatedModules.All.Where(m => m.SearchOperation is not null).ToDictionary(m => m.SearchOperation!, m => m.Name, StringComparer.Ordinal);

    /// <summary>Properties a record only carries when asked for with include=…, and the include values that ask for each (Ticket.json; Call.json, Event.json and Task.json for activities).</summary>
    private static readonly Dictionary<string, string[]> Includable = new(StringComparer.Ordinal)
    {
        ["contact"] = ["contacts"], ["product"] = ["products"], ["department"] = ["departments"], ["team"] = ["team", "teams"],
        ["assignee"] = ["assignee"], ["contract"] = ["contract"], ["skillsInfo"] = ["skills"], ["ticket"] = ["tickets"],
    };

    /// <summary>Parameters that page, sort or shape an answer rather than filter records.</summary>
    private static readonly HashSet<string> NonFilters = new(StringComparer.Ordinal)
    {
        "from", "limit", "sortBy", "include", "orgId", "fields", "viewId", "module",
    };

    private readonly EmulatorOptions _options;
    private readonly Portal _portal;
    private readonly OAuthServer _oauth;
    private readonly ApiLimits _limits;
    private readonly Faults _faults;
    private readonly OpenApiCatalog _catalog;
    private readonly SchemaShaper _shaper;
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    private readonly WebhookSender _webhooks;

    public DeskApi(EmulatorOptions options, Portal portal, OAuthServer oauth, ApiLimits limits, Faults faults, OpenApiCatalog catalog, WebhookSender webhooks)
    {
        _webhooks = webhooks;
        _options = options;
        _portal = portal;
        _oauth = oauth;
        _limits = limits;
        _faults = faults;
        _catalog = catalog;
        _shaper = new SchemaShaper(catalog);
    }

    /// <summary>Calls answered, by operationId (errors included, under "error:CODE").</summary>
    public IReadOnlyDictionary<string, int> Calls => _calls;

    public int TotalCalls => _calls.Values.Sum();

    public async Task HandleAsync(HttpContext ctx)
    {
        var fault = _faults.Next();
        if (fault.Kind == FaultKind.Drop)
        {
            Count("fault:drop");
            ctx.Abort();
            return;
        }

        if (fault.Kind == FaultKind.TooManyRequests || !_limits.TryEnter())
        {
            await Error(ctx, 429, "TOO_MANY_REQUESTS", "Too many requests are in progress. Please try again after some time.");
            return;
        }

        try
        {
            // The latency is the time until the answer starts, the emulator's own work included
            // (as a real server's is): the answer is made while it runs, and written when it ends.
            if (_faults.Latency > TimeSpan.Zero)
            {
                ctx.Items[DueKey] = Task.Delay(_faults.Latency, ctx.RequestAborted);
            }

            if (fault.Kind is FaultKind.CutBody or FaultKind.StallBody or FaultKind.GarbledBody or FaultKind.DeflatedBody or FaultKind.RawDeflatedBody or FaultKind.UnknownEncoding or FaultKind.IdentityEncoding)
            {
                ctx.Items[BodyFaultKey] = fault.Kind;
            }

            await HandleEnteredAsync(ctx, fault);
        }
        finally
        {
            _limits.Exit();
        }
    }

    private async Task HandleEnteredAsync(HttpContext ctx, FaultDecision fault)
    {
        switch (fault.Kind)
        {
            case FaultKind.ServerError:
                await Error(ctx, 500, "INTERNAL_SERVER_ERROR", "An internal server error occurred while performing this operation.");
                return;
            case FaultKind.ThresholdExceeded:
                ctx.Response.Headers.RetryAfter = (fault.Scripted?.RetryAfterSeconds ?? 60).ToString(CultureInfo.InvariantCulture);
                await Error(ctx, 429, "THRESHOLD_EXCEEDED", "The API credits for the day are exhausted.");
                return;
            case FaultKind.Status:
                if (fault.Scripted!.RetryAfterSeconds is { } ra)
                {
                    ctx.Response.Headers.RetryAfter = ra.ToString(CultureInfo.InvariantCulture);
                }

                await Error(ctx, fault.Scripted.Status, fault.Scripted.ErrorCode ?? "INTERNAL_SERVER_ERROR", "Scripted fault.");
                return;
        }

        var path = ctx.Request.Path.Value ?? "/";
        var isFieldsAlias = path.TrimEnd('/') == "/api/v1/fields";
        var op = isFieldsAlias
            ? _catalog.Get("getFields")
            : _catalog.Find(ctx.Request.Method, path, out _);
        var pathValues = new Dictionary<string, string>();
        if (!isFieldsAlias && op is not null)
        {
            var m = op.PathRegex.Match(path);
            pathValues = op.PathParameterNames.ToDictionary(n => n, n => m.Groups[n].Value);
        }

        if (op is null || !IsEmulated(op.OperationId))
        {
            await Error(ctx, 404, "URL_NOT_FOUND", "The URL you requested could not be found.");
            return;
        }

        // Authentication: "Authorization: Zoho-oauthtoken <token>".
        var auth = ctx.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(auth))
        {
            await Error(ctx, 401, "UNAUTHORIZED", "You are not authenticated to perform this operation.");
            return;
        }

        const string Scheme = "Zoho-oauthtoken ";
        var token = auth.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? auth[Scheme.Length..].Trim() : null;
        var access = _oauth.CheckAccessToken(token);
        if (!access.Valid)
        {
            await Error(ctx, 401, "INVALID_OAUTH", "The OAuth Token you provided is invalid.");
            return;
        }

        if (op.Scopes.Count > 0 && !op.Scopes.Any(s => HasScope(access.Scopes, s)))
        {
            await Error(ctx, 401, "SCOPE_MISMATCH", $"The OAuth token does not have the scope needed for this operation: one of {string.Join(", ", op.Scopes)}.");
            return;
        }

        var query = ctx.Request.Query;
        if (op.OperationId is not "getOrganizations" and not "getOrganization")
        {
            var orgId = ctx.Request.Headers["orgId"].ToString();
            if (string.IsNullOrEmpty(orgId))
            {
                orgId = query["orgId"].ToString();
            }

            if (string.IsNullOrEmpty(orgId))
            {
                await Error(ctx, 422, "UNPROCESSABLE_ENTITY", "The orgId header is missing.", Field("orgId", "missing", "orgId is required"));
                return;
            }

            if (orgId != access.OrgId)
            {
                await Error(ctx, 403, "OAUTH_ORG_MISMATCH", "The OAuth token does not belong to the organization given in orgId.");
                return;
            }
        }

        var invalid = ValidateQuery(op, query);
        if (invalid is not null)
        {
            await Error(ctx, 422, "UNPROCESSABLE_ENTITY", invalid.Value.Message, Field(invalid.Value.Field, invalid.Value.Type, invalid.Value.Message));
            return;
        }

        var module = ListModules.GetValueOrDefault(op.OperationId) ?? RecordModules.GetValueOrDefault(op.OperationId)
            ?? SearchModules.GetValueOrDefault(op.OperationId) ?? (op.OperationId is "getTicketsCount" ? "tickets" : null);
        if (module is not null && _options.LicenseLimitedTables.Contains(module))
        {
            await Error(ctx, 403, "LICENSE_ACCESS_LIMITED", $"Your Zoho Desk edition does not include {module}.");
            return;
        }

        var weight = SearchModules.ContainsKey(op.OperationId) || ListModules.ContainsKey(op.OperationId) ? 3 : 1;
        if (!_limits.TrySpend(weight, out var remaining, out var untilReset))
        {
            ctx.Response.Headers.RetryAfter = ((long)Math.Ceiling(untilReset.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            await Error(ctx, 429, "THRESHOLD_EXCEEDED", "You have exceeded the API credit limit for the day.");
            return;
        }

        ctx.Response.Headers["X-Rate-Limit-Request-Weight-v3"] = weight.ToString(CultureInfo.InvariantCulture);
        ctx.Response.Headers["X-Rate-Limit-Remaining-v3"] = remaining.ToString(CultureInfo.InvariantCulture);
        Count(op.OperationId);

        var (status, body) = op.OperationId.EndsWith("Webhook", StringComparison.Ordinal) || op.OperationId == "getWebhooks"
            ? await WebhooksAsync(ctx, op, pathValues)
            : Dispatch(op, pathValues, query);
        await Write(ctx, op, status, body);
    }

    private static bool IsEmulated(string operationId) =>
        ListModules.ContainsKey(operationId) || RecordModules.ContainsKey(operationId)
        || SearchModules.ContainsKey(operationId) || operationId is "getOrganizations" or "getOrganization" or "getTicketsCount" or "getFields"
        || operationId is "getWebhooks" or "createWebhook" or "getWebhook" or "deleteWebhook" or "updateWebhook";

    /// <summary>Webhooks by API (Webhook.json); creating or re-pointing one validates its URL the way Zoho does.</summary>
    private async Task<(int Status, JsonNode? Body)> WebhooksAsync(HttpContext ctx, OpenApiOperation op, Dictionary<string, string> pathValues)
    {
        var id = pathValues.GetValueOrDefault("webhookId");
        switch (op.OperationId)
        {
            case "getWebhooks":
            {
                var all = _webhooks.Webhooks;
                return all.Count == 0 ? (204, null) : (200, new JsonObject { ["data"] = new JsonArray(all.Select(h => (JsonNode)h.ToJson()).ToArray()) });
            }

            case "getWebhook":
                return _webhooks.Get(id!) is { } found ? (200, found.ToJson()) : (404, null);
            case "deleteWebhook":
                return _webhooks.Remove(id!) ? (200, new JsonObject()) : (404, null);
        }

        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(ctx.Request.Body) as JsonObject;
        }
        catch (JsonException)
        {
            body = null;
        }

        if (body is null)
        {
            return (422, Problem("EMPTY_PAYLOAD", "The request body is not a JSON object.", "payload"));
        }

        var existing = id is null ? null : _webhooks.Get(id);
        if (id is not null && existing is null)
        {
            return (404, null);
        }

        var urlText = body["url"]?.GetValue<string>() ?? existing?.Url.ToString();
        if (urlText is null || !Uri.TryCreate(urlText, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || urlText.Length > 100)
        {
            return (422, Problem("INVALID_DATA", "The url must be an http(s) URL of at most 100 characters.", "url"));
        }

        var subscriptions = body["subscriptions"] as JsonObject ?? existing?.Subscriptions;
        if (subscriptions is null || subscriptions.Count == 0)
        {
            return (422, Problem("INVALID_DATA", "subscriptions must name at least one event.", "subscriptions"));
        }

        var enabled = body["isEnabled"]?.GetValue<bool>() ?? existing?.IsEnabled ?? true;
        var allowed = _options.Edition.ToUpperInvariant() switch { "FREE" or "STANDARD" or "EXPRESS" => 0, "PROFESSIONAL" => 5, _ => 10 };
        if (enabled && (existing is null || !existing.IsEnabled) && _webhooks.Webhooks.Count(h => h.IsEnabled) >= allowed)
        {
            return (422, Problem("UNPROCESSABLE_ENTITY", $"The {_options.Edition} edition allows {allowed} enabled webhooks.", "isEnabled"));
        }

        if ((existing is null || existing.Url != url) && !await _webhooks.ValidateAsync(url, ctx.RequestAborted))
        {
            return (422, Problem("UNPROCESSABLE_ENTITY", "The URL did not answer the validation GET or POST with HTTP 200.", "url"));
        }

        if (existing is null)
        {
            var hook = _webhooks.Add(url, (JsonObject)subscriptions.DeepClone(), body["name"]?.GetValue<string>(), body["description"]?.GetValue<string>(), enabled, body["includeEventsFrom"]?.DeepClone() as JsonArray);
            return (200, hook.ToJson());
        }

        existing.Url = url;
        existing.Subscriptions = (JsonObject)subscriptions.DeepClone();
        existing.IsEnabled = enabled;
        existing.Name = body["name"]?.GetValue<string>() ?? existing.Name;
        return (200, existing.ToJson());
    }

    private static JsonObject Problem(string code, string message, string field) => new()
    {
        ["errorCode"] = code,
        ["message"] = message,
        ["errors"] = Field(field, "invalid", message),
    };

    private (int Status, object? Body) Dispatch(OpenApiOperation op, Dictionary<string, string> pathValues, IQueryCollection query)
    {
        switch (op.OperationId)
        {
            case "getOrganizations":
                return (200, new JsonObject { ["data"] = new JsonArray(_portal.Organization.DeepClone()) });
            case "getOrganization":
                return pathValues.GetValueOrDefault("organizationId") == _portal.OrgId
                    ? (200, _portal.Organization.DeepClone())
                    : (404, null);
            case "getFields":
            {
                var fields = _portal.Fields(query["module"].ToString());
                return fields.Count == 0 ? (204, null) : (200, new JsonObject { ["data"] = new JsonArray(fields.Select(f => (JsonNode)f.DeepClone()).ToArray()) });
            }

            case "getTicketsCount":
                return (200, new JsonObject { ["count"] = Filter(_portal.List("tickets"), query).Count() });
            case var search when SearchModules.ContainsKey(search):
            {
                // Search has no include=: its schema requires the nested contact, assignee, … objects.
                var records = _portal.List(SearchModules[op.OperationId]);
                List<byte[]> items;
                int count;
                if (CreatedTimeWindow(records, query) is { } window)
                {
                    // Records are stored in createdTime order: a createdTime window sorted by createdTime is a slice.
                    items = [.. window.Indexes.Select(i => ShapedItem(op, records[i]))];
                    count = window.Count;
                }
                else
                {
                    var matches = Sort(Filter(records, query), query["sortBy"].ToString()).ToList();
                    items = [.. Page(matches, query).Select(r => ShapedItem(op, r))];
                    count = matches.Count;
                }

                return items.Count == 0 ? (204, null) : (200, new RenderedPage(items, count));
            }

            case "getTeams":
                return (200, new JsonObject { ["teams"] = new JsonArray(_portal.List("teams").Select(r => (JsonNode)r.DeepClone()).ToArray()) });
        }

        if (ListModules.TryGetValue(op.OperationId, out var listModule))
        {
            var records = Sort(Filter(_portal.List(listModule), query), query["sortBy"].ToString()).ToList();
            var page = Page(records, query);
            var include = Includes(query);
            return page.Count == 0
                ? (204, null)
                : (200, new JsonObject { ["data"] = new JsonArray(page.Select(r => (JsonNode)WithoutIncludes(r, include)).ToArray()) });
        }

        var recordModule = RecordModules[op.OperationId];
        var id = pathValues.Values.FirstOrDefault() ?? "";
        var record = _portal.Get(recordModule, id);
        return record is null ? (404, null) : (200, WithoutIncludes(record, Includes(query)));
    }

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<JsonObject, byte[]> _shapedSearchItems = [];

    /// <summary>
    /// A search item in its answer shape, as UTF-8 JSON. Stored records are immutable (an update
    /// stores a new object), so each is shaped once — except in a compact store, whose point is to
    /// hold each record once (and whose reads parse a new object each time).
    /// </summary>
    private byte[] ShapedItem(OpenApiOperation op, JsonObject record)
    {
        byte[] Shape(JsonObject r)
        {
            var schema = op.ResponseSchema(_catalog, "200", out var file)!;
            return JsonSerializer.SerializeToUtf8Bytes(_shaper.Shape(new JsonObject { ["data"] = new JsonArray(r.DeepClone()) }, schema, file)!["data"]![0], Json);
        }

        return _options.CompactStore ? Shape(record) : _shapedSearchItems.GetValue(record, Shape);
    }

    /// <summary>A search answer of already shaped items: <c>{"data":[…],"count":n}</c>, written without building one big string.</summary>
    private sealed record RenderedPage(List<byte[]> Items, int Count)
    {
        public static ReadOnlySpan<byte> Head => "{\"data\":["u8;

        public byte[] Tail() => Encoding.UTF8.GetBytes($"],\"count\":{Count.ToString(CultureInfo.InvariantCulture)}}}");
    }

    /// <summary>The indexes and count of a search that only asks for a createdTime range sorted by createdTime (either way), or null.</summary>
    private (List<int> Indexes, int Count)? CreatedTimeWindow(IReadOnlyList<JsonObject> ordered, IQueryCollection query)
    {
        var descending = query["sortBy"].ToString() == "-createdTime";
        if ((query["sortBy"].ToString() != "createdTime" && !descending) || query.Keys.Any(k => k is not ("createdTimeRange" or "sortBy" or "from" or "limit" or "orgId"))
            || query["createdTimeRange"].ToString().Split(',') is not [var startText, var endText]
            || Portal.ParseTime(startText) is not { } start || Portal.ParseTime(endText) is not { } end)
        {
            return null;
        }

        var lo = LowerBound(ordered, Portal.Iso(start), inclusive: true);
        var hi = LowerBound(ordered, Portal.Iso(end), inclusive: false);
        var from = int.TryParse(query["from"], CultureInfo.InvariantCulture, out var f) ? Math.Max(0, f - _options.FromBase) : 0;
        var limit = int.TryParse(query["limit"], CultureInfo.InvariantCulture, out var l) ? l : 10;
        var indexes = descending ? NewestFirst(ordered, lo, hi) : Enumerable.Range(lo, Math.Max(0, hi - lo));
        return ([.. indexes.Skip(from).Take(limit)], Math.Max(0, hi - lo));
    }

    /// <summary>Indexes of [lo, hi) newest first; records of the same millisecond keep their stored order, as a stable sort gives.</summary>
    private static IEnumerable<int> NewestFirst(IReadOnlyList<JsonObject> ordered, int lo, int hi)
    {
        string? Created(int i) => ordered[i]["createdTime"]?.GetValue<string>();
        var end = hi - 1;
        while (end >= lo)
        {
            var created = Created(end);
            var start = end;
            while (start - 1 >= lo && Created(start - 1) == created)
            {
                start--;
            }

            for (var i = start; i <= end; i++)
            {
                yield return i;
            }

            end = start - 1;
        }
    }

    /// <summary>First index whose createdTime is ≥ (inclusive) or &gt; (exclusive) the key.</summary>
    private static int LowerBound(IReadOnlyList<JsonObject> ordered, string key, bool inclusive)
    {
        int a = 0, b = ordered.Count;
        while (a < b)
        {
            var m = (a + b) / 2;
            var c = string.CompareOrdinal(ordered[m]["createdTime"]?.GetValue<string>(), key);
            if (c < 0 || (!inclusive && c == 0))
            {
                a = m + 1;
            }
            else
            {
                b = m;
            }
        }

        return a;
    }

    private static HashSet<string> Includes(IQueryCollection query) =>
        query["include"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToHashSet(StringComparer.Ordinal);

    private static JsonObject WithoutIncludes(JsonObject record, HashSet<string> include)
    {
        var copy = record.DeepClone().AsObject();
        foreach (var (property, asks) in Includable)
        {
            if (!asks.Any(include.Contains))
            {
                copy.Remove(property);
            }
        }

        return copy;
    }

    private List<JsonObject> Page(List<JsonObject> records, IQueryCollection query)
    {
        var from = int.TryParse(query["from"], CultureInfo.InvariantCulture, out var f) ? f : _options.FromBase;
        var limit = int.TryParse(query["limit"], CultureInfo.InvariantCulture, out var l) ? l : 10;
        var start = Math.Max(0, from - _options.FromBase);
        return records.Skip(start).Take(limit).ToList();
    }

    private static IEnumerable<JsonObject> Filter(IEnumerable<JsonObject> records, IQueryCollection query)
    {
        foreach (var (name, values) in query)
        {
            if (NonFilters.Contains(name))
            {
                continue;
            }

            var value = values.ToString();
            if (name.EndsWith("Range", StringComparison.Ordinal))
            {
                var field = name[..^"Range".Length];
                var parts = value.Split(',');
                var lo = Portal.ParseTime(parts[0]);
                var hi = parts.Length > 1 ? Portal.ParseTime(parts[1]) : null;
                records = records.Where(r => Portal.ParseTime(r[field]?.GetValue<string>()) is { } t && (lo is null || t >= lo) && (hi is null || t <= hi));
            }
            else if (name is "departmentId" && value == "0")
            {
                // departmentId=0 means all departments.
            }
            else if (name is "departmentIds" or "ownerIds" or "teamIds" or "roleIds")
            {
                var field = name[..^1];
                var set = value.Split(',').ToHashSet(StringComparer.Ordinal);
                records = records.Where(r => r[field]?.GetValue<string>() is { } v && set.Contains(v));
            }
            else if (name is "_all" or "subject" or "description" or "searchStr")
            {
                var field = name is "_all" or "searchStr" ? "subject" : name;
                var needle = value.Trim('*');
                records = records.Where(r => r[field]?.ToString().Contains(needle, StringComparison.OrdinalIgnoreCase) == true);
            }
            else if (name == "assignee")
            {
                records = records.Where(r => r["assigneeId"]?.ToString() == value);
            }
            else
            {
                records = records.Where(r => !r.ContainsKey(name) || string.Equals(r[name]?.ToString(), value, StringComparison.OrdinalIgnoreCase));
            }
        }

        return records;
    }

    private static IEnumerable<JsonObject> Sort(IEnumerable<JsonObject> records, string sortBy)
    {
        // Without sortBy: oldest first [G] — stable under inserts, which arrive at the end.
        var descending = sortBy.StartsWith('-');
        var field = sortBy.TrimStart('-');
        if (field is "" or "relevance")
        {
            field = "createdTime";
        }

        var keyed = records.Select(r => (Record: r, Key: r[field]?.ToString() ?? "", Id: r["id"]!.GetValue<string>()));
        var ordered = descending
            ? keyed.OrderByDescending(k => k.Key, StringComparer.Ordinal).ThenByDescending(k => k.Id.Length).ThenByDescending(k => k.Id, StringComparer.Ordinal)
            : keyed.OrderBy(k => k.Key, StringComparer.Ordinal).ThenBy(k => k.Id.Length).ThenBy(k => k.Id, StringComparer.Ordinal);
        return ordered.Select(k => k.Record);
    }

    private (string Field, string Type, string Message)? ValidateQuery(OpenApiOperation op, IQueryCollection query)
    {
        foreach (var (name, values) in query)
        {
            if (name == "orgId")
            {
                continue;
            }

            if (!op.QueryParameters.TryGetValue(name, out var schema))
            {
                return (name, "invalid", $"Extra query parameter '{name}' is present in the input.");
            }

            var value = values.ToString();
            var types = schema["type"] is JsonArray ta ? ta.Select(t => t!.GetValue<string>()).ToHashSet() : [schema["type"]?.GetValue<string>() ?? "string"];
            if (types.Contains("integer") || schema["format"]?.GetValue<string>() is "int32")
            {
                if (name is not "from" and not "limit")
                {
                    continue;
                }

                if (!long.TryParse(value, CultureInfo.InvariantCulture, out var number))
                {
                    return (name, "invalid", $"The value passed for field '{name}' is not a number.");
                }

                var min = schema["minimum"]?.GetValue<long>() ?? 0;
                long? max = schema["maximum"]?.GetValue<long>();
                if (name == "limit")
                {
                    max ??= FallbackCaps.GetValueOrDefault(op.OperationId, 100);
                    min = Math.Max(min, 1);
                }
                else
                {
                    min = Math.Min(min, _options.FromBase);
                    max = SearchModules.ContainsKey(op.OperationId) ? _options.SearchOffsetMax : _options.ListOffsetMax;
                }

                if (number < min || number > max)
                {
                    return (name, "invalid", $"The value passed for field '{name}' exceeds the range of '{min}-{max}'");
                }
            }
            else if (name == "include" || schema["items"] is JsonObject)
            {
                var allowed = schema["items"]?["enum"]?.AsArray().Select(e => e?.ToString()).ToHashSet();
                foreach (var item in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (allowed is not null && !allowed.Contains(item))
                    {
                        return (name, "invalid", $"The value '{item}' passed for field '{name}' is not allowed.");
                    }
                }
            }
            else if (schema["enum"] is JsonArray allowedValues)
            {
                var candidate = name == "sortBy" ? value.TrimStart('-') : value;
                if (!allowedValues.Any(e => e?.ToString() == candidate))
                {
                    return (name, "invalid", $"The value '{value}' passed for field '{name}' is not allowed.");
                }
            }
            else if (name.EndsWith("Range", StringComparison.Ordinal))
            {
                var parts = value.Split(',');
                if (parts.Length != 2 || parts.Any(p => Portal.ParseTime(p) is null))
                {
                    return (name, "invalid", $"The value passed for field '{name}' must be 'start,end' in ISO-8601.");
                }
            }
        }

        if (op.OperationId == "getFields" && string.IsNullOrEmpty(query["module"]))
        {
            return ("module", "missing", "The parameter 'module' is required.");
        }

        return null;
    }

    private async Task Write(HttpContext ctx, OpenApiOperation op, int status, object? body)
    {
        await Due(ctx);
        if (status == 404)
        {
            await Error(ctx, 404, "URL_NOT_FOUND", "The URL you requested could not be found.");
            return;
        }

        if (status == 422 && body is JsonObject problem)
        {
            Count("error:" + problem["errorCode"]);
            ctx.Response.StatusCode = 422;
            ctx.Response.ContentType = "application/json;charset=UTF-8";
            await ctx.Response.WriteAsync(problem.ToJsonString(Json));
            return;
        }

        ctx.Response.StatusCode = status;
        if (status == 204 || body is null)
        {
            return;
        }

        ctx.Response.ContentType = "application/json;charset=UTF-8";
        if (ctx.Items.TryGetValue(BodyFaultKey, out var bodyFault))
        {
            await BrokenBodyAsync(ctx, op, body, (FaultKind)bodyFault!);
            return;
        }

        if (body is RenderedPage page)
        {
            var tail = page.Tail();
            ctx.Response.ContentLength = RenderedPage.Head.Length + page.Items.Sum(i => i.Length) + page.Items.Count - 1 + tail.Length;
            var writer = ctx.Response.BodyWriter;
            writer.Write(RenderedPage.Head);
            for (var i = 0; i < page.Items.Count; i++)
            {
                if (i > 0)
                {
                    writer.Write(","u8);
                }

                writer.Write(page.Items[i]);
            }

            writer.Write(tail);
            await writer.FlushAsync();
            return;
        }

        await ctx.Response.WriteAsync(Shaped(op, (JsonNode)body).ToJsonString(Json));
    }

    /// <summary>An answer in its OpenAPI shape.</summary>
    private JsonNode Shaped(OpenApiOperation op, JsonNode node) =>
        op.ResponseSchema(_catalog, "200", out var file) is { } schema ? _shaper.Shape(node, schema, file)! : node;

    /// <summary>The answer's headers and first half, then a cut connection or silence; or the whole body under a false or unasked-for Content-Encoding.</summary>
    private async Task BrokenBodyAsync(HttpContext ctx, OpenApiOperation op, object body, FaultKind fault)
    {
        Count("fault:" + fault);
        byte[] bytes = body is RenderedPage page
            ? [.. RenderedPage.Head, .. page.Items.SelectMany((item, i) => i == 0 ? item : [(byte)',', .. item]), .. page.Tail()]
            : Encoding.UTF8.GetBytes(Shaped(op, (JsonNode)body).ToJsonString(Json));

        if (fault is FaultKind.DeflatedBody or FaultKind.RawDeflatedBody)
        {
            using var deflated = new MemoryStream();
            await using (Stream deflater = fault == FaultKind.DeflatedBody ? new ZLibStream(deflated, CompressionLevel.Fastest, leaveOpen: true) : new DeflateStream(deflated, CompressionLevel.Fastest, leaveOpen: true))
            {
                await deflater.WriteAsync(bytes);
            }

            bytes = deflated.ToArray();
        }

        ctx.Response.ContentLength = bytes.Length;
        if (fault is not (FaultKind.CutBody or FaultKind.StallBody))
        {
            ctx.Response.Headers.ContentEncoding = fault switch
            {
                FaultKind.GarbledBody => "gzip",
                FaultKind.UnknownEncoding => "zstd",
                FaultKind.IdentityEncoding => "identity",
                _ => "deflate",
            };
            await ctx.Response.Body.WriteAsync(bytes);
            return;
        }

        await ctx.Response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
        await ctx.Response.Body.FlushAsync();
        if (fault == FaultKind.CutBody)
        {
            // Let the half leave first: an abort discards output not yet sent, and a connection
            // dropped before any answer is one the client's handler sends again unseen.
            await Task.Delay(100, ctx.RequestAborted);
            ctx.Abort();
            return;
        }

        try
        {
            await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client gave up, as it should.
        }
    }

    private async Task Error(HttpContext ctx, int status, string code, string message, JsonArray? errors = null)
    {
        await Due(ctx);
        Count("error:" + code);
        ctx.Response.StatusCode = status;
        if (!ctx.Response.Headers.ContainsKey("X-Rate-Limit-Request-Weight-v3"))
        {
            // A refused call costs nothing [G]; the headers are on every answer all the same.
            ctx.Response.Headers["X-Rate-Limit-Request-Weight-v3"] = "0";
            ctx.Response.Headers["X-Rate-Limit-Remaining-v3"] = _limits.Remaining.ToString(CultureInfo.InvariantCulture);
        }

        var body = new JsonObject { ["errorCode"] = code, ["message"] = message };
        if (errors is not null)
        {
            body["errors"] = errors;
        }

        ctx.Response.ContentType = "application/json;charset=UTF-8";
        await ctx.Response.WriteAsync(body.ToJsonString(Json));
    }

    private static JsonArray Field(string field, string type, string message) =>
        [new JsonObject { ["fieldName"] = field, ["errorType"] = type, ["errorMessage"] = message }];

    private static readonly object DueKey = new();

    private static readonly object BodyFaultKey = new();

    /// <summary>Until the call's latency has passed since it arrived (no wait without one).</summary>
    private static Task Due(HttpContext ctx) => ctx.Items.TryGetValue(DueKey, out var due) && due is Task task ? task : Task.CompletedTask;

    /// <summary>Desk.tickets.ALL covers Desk.tickets.READ; Desk.search.READ covers itself.</summary>
    private static bool HasScope(string[] granted, string needed)
    {
        var dot = needed.LastIndexOf('.');
        var family = dot > 0 ? needed[..dot] : needed;
        return granted.Any(g => string.Equals(g, needed, StringComparison.OrdinalIgnoreCase)
            || string.Equals(g, family + ".ALL", StringComparison.OrdinalIgnoreCase)
            || string.Equals(g, "Desk.ALL", StringComparison.OrdinalIgnoreCase));
    }

    private void Count(string key) => _calls.AddOrUpdate(key, 1, (_, n) => n + 1);
}
