using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
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
public sealed partial class DeskApi
{
    internal static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Page-size caps where Zoho's OpenAPI files give no maximum (facts page §2).</summary>
    private static readonly Dictionary<string, int> FallbackCaps =
        EmulatedModules.All.Where(m => m.ListCap > 0).Select(m => KeyValuePair.Create(m.ListOperation, m.ListCap))
            .Concat(EmulatedModules.All.Where(m => m.SearchOperation is not null).Select(m => KeyValuePair.Create(m.SearchOperation!, EmulatedModules.SearchCap)))
            .ToDictionary(StringComparer.Ordinal);

    private static readonly Dictionary<string, string> ListModules = EmulatedModules.All.ToDictionary(m => m.ListOperation, m => m.Name, StringComparer.Ordinal);

    private static readonly Dictionary<string, string> RecordModules = EmulatedModules.All.ToDictionary(m => m.RecordOperation, m => m.Name, StringComparer.Ordinal);

    private const string HistoryOperation = "getTicketHistory";
    private const string AttachmentContentOperation = "getTicketAttachmentContent";
    private const string TagCatalogueOperation = "getTicketsTags";

    private static readonly Dictionary<string, EmulatedChild> ChildLists = EmulatedChildren.All.ToDictionary(c => c.ListOperation, StringComparer.Ordinal);

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
        _shaper = new SchemaShaper(catalog, options.AnswerSpread);
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
            ?? SearchModules.GetValueOrDefault(op.OperationId) ?? (op.OperationId is "getTicketsCount" or "getThread" or HistoryOperation or AttachmentContentOperation or TagCatalogueOperation || ChildLists.ContainsKey(op.OperationId) ? "tickets" : null);
        if (module is not null && _options.LicenseLimitedTables.Contains(module))
        {
            await Error(ctx, 403, "LICENSE_ACCESS_LIMITED", $"Your Zoho Desk edition does not include {module}.");
            return;
        }

        var weight = SearchModules.ContainsKey(op.OperationId) || ListModules.ContainsKey(op.OperationId) || ChildLists.ContainsKey(op.OperationId) || op.OperationId is HistoryOperation or TagCatalogueOperation ? 3 : 1;
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
        ListModules.ContainsKey(operationId) || RecordModules.ContainsKey(operationId) || ChildLists.ContainsKey(operationId)
        || SearchModules.ContainsKey(operationId) || operationId is "getOrganizations" or "getOrganization" or "getTicketsCount" or "getFields" or "getThread" or HistoryOperation or AttachmentContentOperation or TagCatalogueOperation
        || operationId is "getWebhooks" or "createWebhook" or "getWebhook" or "deleteWebhook" or "updateWebhook";

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

            case "getThread":
            {
                // One thread with its content (FactsPage.json).
                var thread = _portal.Children("threads", pathValues.GetValueOrDefault("ticketId") ?? "")?.FirstOrDefault(t => t["id"]?.ToString() == pathValues.GetValueOrDefault("threadId"));
                return thread is null ? (404, null) : (200, thread.DeepClone());
            }

            case "getTeams":
                return (200, new JsonObject { ["teams"] = new JsonArray(_portal.List("teams").Select(r => (JsonNode)r.DeepClone()).ToArray()) });
        }

        if (op.OperationId == TagCatalogueOperation)
        {
            // A department's tags with the number of its tickets that have each (TicketTag.json).
            if (_portal.TagCatalogue(query["departmentId"].ToString()) is not { } tags)
            {
                return (404, null);
            }

            var page = Page([.. tags], query);
            return page.Count == 0 ? (204, null) : (200, new JsonObject { ["data"] = new JsonArray([.. page]) });
        }

        if (op.OperationId == AttachmentContentOperation)
        {
            // An attachment's file (its href).
            var attachment = _portal.Children("attachments", pathValues.GetValueOrDefault("ticketId") ?? "")?.FirstOrDefault(a => a["id"]?.ToString() == pathValues.GetValueOrDefault("attachmentId"));
            return attachment is null ? (404, null) : (200, Portal.AttachmentContent(attachment));
        }

        if (op.OperationId == HistoryOperation)
        {
            // A ticket's history, newest first (FactsPage.json).
            if (_portal.History(pathValues.GetValueOrDefault("ticketId") ?? "") is not { } history)
            {
                return (404, null);
            }

            var entries = Page([.. history.Reverse()], query);
            return entries.Count == 0
                ? (204, null)
                : (200, new JsonObject { ["data"] = new JsonArray(entries.Select(r => (JsonNode)r.DeepClone()).ToArray()) });
        }

        if (ChildLists.TryGetValue(op.OperationId, out var child))
        {
            // A ticket's list: its path names the ticket (caseId on the time-entry path).
            var ticketId = pathValues.GetValueOrDefault("ticketId") ?? pathValues.GetValueOrDefault("caseId") ?? "";
            if (_portal.Children(child.Name, ticketId) is not { } children)
            {
                return (404, null);
            }

            var ordered = child.Descending(query[child.SortParameter].ToString()) ? children.Reverse().ToList() : [.. children];
            var childPage = child.Paged ? Page(ordered, query) : ordered;
            return childPage.Count == 0
                ? (204, null)
                : (200, new JsonObject { [child.ItemsKey] = new JsonArray(childPage.Select(r => (JsonNode)r.DeepClone()).ToArray()) });
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
