using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using DeskSync.Emulator;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Emulator;

/// <summary>The emulator behaves like Zoho Desk where DeskSync depends on it (facts page §2–§4).</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class EmulatorDeskApiTests
{
    private const string IsoMillis = @"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$";

    [Fact]
    public async Task Ticket_list_items_are_thin_and_the_detail_is_full()
    {
        await using var portal = await TestPortal.StartAsync();
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync();

        var (_, list, r1) = await raw.GetJsonAsync("/api/v1/tickets?limit=5", token);
        r1.Dispose();
        var item = list!["data"]![0]!.AsObject();
        foreach (var absent in new[] { "modifiedTime", "cf", "customFields", "description", "isDeleted", "isTrashed" })
        {
            Assert.False(item.ContainsKey(absent), $"list item carries {absent}");
        }

        var id = item["id"]!.GetValue<string>();
        Assert.Matches("^[0-9]{16,19}$", id);
        var (_, detail, r2) = await raw.GetJsonAsync($"/api/v1/tickets/{id}", token);
        r2.Dispose();
        Assert.Matches(IsoMillis, detail!["modifiedTime"]!.GetValue<string>());
        Assert.Matches(IsoMillis, detail["createdTime"]!.GetValue<string>());
        Assert.NotNull(detail["description"]);
        Assert.False(detail["isDeleted"]!.GetValue<bool>());
        var cf = detail["cf"]!.AsObject();
        var byLabel = detail["customFields"]!.AsObject();
        Assert.True(byLabel.ContainsKey("Customer refund, IF ANY?"));
        Assert.True(byLabel.ContainsKey("日期 1"));
        Assert.Equal(cf.Count, byLabel.Count);
        Assert.All(cf, kv => Assert.True(kv.Value is null || kv.Value.GetValueKind() == System.Text.Json.JsonValueKind.String, "cf values are strings"));
    }

    [Fact]
    public async Task Custom_field_definitions_cover_every_Zoho_type_with_hostile_labels()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, AnswerSpread = 0 });
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync();

        var (_, body, r) = await raw.GetJsonAsync("/api/v1/organizationFields?module=tickets", token);
        r.Dispose();
        var custom = body!["data"]!.AsArray().Select(f => f!.AsObject()).Where(f => f["isCustomField"]!.GetValue<bool>()).ToList();
        var types = custom.Select(f => f["type"]!.GetValue<string>()).ToHashSet();
        foreach (var type in new[] { "Text", "Textarea", "Picklist", "Multiselect", "Date", "DateTime", "Number", "Decimal", "Percent", "Currency", "Boolean", "Email", "Phone", "URL", "LargeText", "LookUp", "Fax" })
        {
            Assert.Contains(type, types);
        }

        var labels = custom.Select(f => f["displayLabel"]!.GetValue<string>()).ToList();
        Assert.Contains("Customer refund, IF ANY?", labels);
        Assert.Contains("日期 1", labels);
        Assert.Contains("region", labels);
        Assert.Contains("Region", labels);
        Assert.Equal(custom.Count, custom.Select(f => f["apiName"]!.GetValue<string>()).Distinct().Count());
    }

    [Fact]
    public async Task Search_filters_by_createdTimeRange_sorts_and_counts()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 150 }, AnswerSpread = 0 });
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync();
        var all = portal.Emulator.Portal.List("tickets").Select(t => DateTimeOffset.Parse(t["createdTime"]!.GetValue<string>(), CultureInfo.InvariantCulture)).Order().ToList();
        var start = all[40];
        var end = all[89];
        var range = Uri.EscapeDataString($"{Iso(start)},{Iso(end)}");

        var (status, body, r) = await raw.GetJsonAsync($"/api/v1/tickets/search?createdTimeRange={range}&sortBy=createdTime&limit=100", token);
        r.Dispose();

        Assert.Equal(200, status);
        var data = body!["data"]!.AsArray();
        Assert.Equal(50, data.Count);
        Assert.Equal(50, body["count"]!.GetValue<int>());
        var times = data.Select(t => t!["createdTime"]!.GetValue<string>()).ToList();
        Assert.Equal(times.Order(StringComparer.Ordinal), times);
        Assert.All(data, t => Assert.NotNull(t!["cf"]));
        Assert.All(data, t => Assert.NotNull(t!["modifiedTime"]));
    }

    [Theory]
    [InlineData("/api/v1/tickets?from=5000", "from")]
    [InlineData("/api/v1/tickets/search?from=1000", "from")]
    [InlineData("/api/v1/tickets?limit=101", "limit")]
    [InlineData("/api/v1/contacts?limit=100", "limit")]
    [InlineData("/api/v1/departments?limit=201", "limit")]
    [InlineData("/api/v1/tickets?sortBy=modifiedTime", "sortBy")]
    [InlineData("/api/v1/tickets?fields=id", "fields")]
    [InlineData("/api/v1/tickets?color=red", "color")]
    public async Task Out_of_range_or_unknown_parameters_answer_422(string path, string field)
    {
        await using var portal = await TestPortal.StartAsync();
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync();

        var (status, body, r) = await raw.GetJsonAsync(path, token);
        r.Dispose();

        Assert.Equal(422, status);
        Assert.Equal("UNPROCESSABLE_ENTITY", body!["errorCode"]!.GetValue<string>());
        Assert.Equal(field, body["errors"]![0]!["fieldName"]!.GetValue<string>());
    }

    [Fact]
    public async Task Deepest_list_offset_is_4999_and_an_empty_page_is_204_with_no_body()
    {
        await using var portal = await TestPortal.StartAsync();
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync();

        using var response = await raw.GetAsync("/api/v1/tickets?from=4999&limit=100", token);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.True(response.Headers.Contains("X-Rate-Limit-Remaining-v3"));
    }

    [Fact]
    public async Task Authorization_and_orgId_are_checked_on_every_call()
    {
        await using var portal = await TestPortal.StartAsync();
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync();

        var cases = new (string? Token, string? Org, int Status, string Code)[]
        {
            (null, "default", 401, "UNAUTHORIZED"),
            ("1000.not-a-token", "default", 401, "INVALID_OAUTH"),
            (token, "123", 403, "OAUTH_ORG_MISMATCH"),
            (token, null, 422, "UNPROCESSABLE_ENTITY"),
        };
        foreach (var (t, org, status, code) in cases)
        {
            var (actual, body, r) = await raw.GetJsonAsync("/api/v1/departments", t, org);
            using (r)
            {
                Assert.Equal(status, actual);
                Assert.Equal(code, body!["errorCode"]!.GetValue<string>());
                Assert.Equal("0", r.Headers.GetValues("X-Rate-Limit-Request-Weight-v3").Single());
            }
        }

        var (notFound, nf, r404) = await raw.GetJsonAsync("/api/v1/nothingHere", token);
        r404.Dispose();
        Assert.Equal(404, notFound);
        Assert.Equal("URL_NOT_FOUND", nf!["errorCode"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_token_without_the_needed_scope_gets_SCOPE_MISMATCH()
    {
        await using var portal = await TestPortal.StartAsync();
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync(["Desk.tickets.READ"]);

        var (status, body, r) = await raw.GetJsonAsync("/api/v1/contacts", token);
        r.Dispose();
        var (ok, _, r2) = await raw.GetJsonAsync("/api/v1/tickets", token);
        r2.Dispose();

        Assert.Equal(401, status);
        Assert.Equal("SCOPE_MISMATCH", body!["errorCode"]!.GetValue<string>());
        Assert.Equal(200, ok);
    }

    [Fact]
    public async Task Every_answer_carries_weight_and_remaining_credits_and_credits_run_out_with_Retry_After()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, DailyCredits = 10 });
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync();

        var remaining = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            using var list = await raw.GetAsync("/api/v1/tickets", token);
            Assert.Equal("3", list.Headers.GetValues("X-Rate-Limit-Request-Weight-v3").Single());
            remaining.Add(long.Parse(list.Headers.GetValues("X-Rate-Limit-Remaining-v3").Single(), CultureInfo.InvariantCulture));
        }

        using var single = await raw.GetAsync($"/api/v1/tickets/{portal.Emulator.Portal.List("tickets")[0]["id"]}", token);
        Assert.Equal("1", single.Headers.GetValues("X-Rate-Limit-Request-Weight-v3").Single());
        Assert.Equal([7L, 4L, 1L], remaining);

        var (status, body, exhausted) = await raw.GetJsonAsync("/api/v1/tickets", token);
        using (exhausted)
        {
            Assert.Equal(429, status);
            Assert.Equal("THRESHOLD_EXCEEDED", body!["errorCode"]!.GetValue<string>());
            var retryAfter = exhausted.Headers.RetryAfter!.Delta!.Value;
            Assert.InRange(retryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        }
    }

    [Fact]
    public async Task Calls_beyond_the_concurrency_cap_get_TOO_MANY_REQUESTS()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, Edition = "FREE" });
        portal.Emulator.Faults.Latency = TimeSpan.FromMilliseconds(300);
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => raw.GetJsonAsync("/api/v1/departments", token)));

        Assert.Equal(5, portal.Emulator.Limits.ConcurrencyCap);
        var refused = answers.Where(a => a.Status == 429).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, a => Assert.Equal("TOO_MANY_REQUESTS", a.Body!["errorCode"]!.GetValue<string>()));
        Assert.All(refused, a => Assert.Null(a.Response.Headers.RetryAfter));
        Assert.True(answers.Count(a => a.Status == 200) <= 5 + 1);
        foreach (var a in answers)
        {
            a.Response.Dispose();
        }
    }

    [Fact]
    public async Task Admin_update_moves_modifiedTime_and_delete_hides_the_record()
    {
        // Without the spread: the test reads the times as the ISO strings the schema declares.
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, AnswerSpread = 0 });
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync();
        var ticket = portal.Emulator.Portal.List("tickets")[3];
        var id = ticket["id"]!.GetValue<string>();
        var before = ticket["modifiedTime"]!.GetValue<string>();

        using (var patch = await raw.Http.PatchAsync($"/_emulator/records/tickets/{id}", new StringContent("""{"status":"Closed","cf":{"cf_order":"77"}}""", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        var (_, detail, r1) = await raw.GetJsonAsync($"/api/v1/tickets/{id}", token);
        r1.Dispose();
        Assert.Equal("Closed", detail!["status"]!.GetValue<string>());
        Assert.Equal("77", detail["cf"]!["cf_order"]!.GetValue<string>());
        Assert.Equal("77", detail["customFields"]!["Order #"]!.GetValue<string>());
        Assert.True(string.CompareOrdinal(detail["modifiedTime"]!.GetValue<string>(), before) > 0);

        using (var delete = await raw.Http.DeleteAsync($"/_emulator/records/tickets/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        }

        var (gone, _, r2) = await raw.GetJsonAsync($"/api/v1/tickets/{id}", token);
        r2.Dispose();
        Assert.Equal(404, gone);
        var (_, search, r3) = await raw.GetJsonAsync("/api/v1/tickets/search?limit=100", token);
        r3.Dispose();
        Assert.DoesNotContain(search!["data"]!.AsArray(), t => t!["id"]!.GetValue<string>() == id);
        var (_, count, r4) = await raw.GetJsonAsync("/api/v1/ticketsCount", token);
        r4.Dispose();
        Assert.Equal(29, count!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_portal_and_another_seed_another()
    {
        var anchor = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        await using var a = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, Seed = 7, DataAnchor = anchor });
        await using var b = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, Seed = 7, DataAnchor = anchor });
        await using var c = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, Seed = 8, DataAnchor = anchor });

        string Dump(TestPortal p) => string.Join('\n', DeskSync.Emulator.Desk.Portal.Modules.SelectMany(m => p.Emulator.Portal.List(m)).Select(t => t.ToJsonString()));

        Assert.Equal(Dump(a), Dump(b));
        Assert.NotEqual(Dump(a), Dump(c));
        Assert.All(a.Emulator.Portal.List("tickets"), t => Assert.True(string.CompareOrdinal(t["modifiedTime"]!.GetValue<string>(), "2026-11-01") < 0));
    }

    [Fact]
    public async Task Faults_on_demand_give_500s_dropped_connections_and_revoked_tokens()
    {
        await using var portal = await TestPortal.StartAsync();
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync();
        portal.Emulator.Faults.Enqueue(new DeskSync.Emulator.Desk.ScriptedFault(DeskSync.Emulator.Desk.FaultKind.ServerError));
        portal.Emulator.Faults.Enqueue(new DeskSync.Emulator.Desk.ScriptedFault(DeskSync.Emulator.Desk.FaultKind.Drop));

        var (status, body, r) = await raw.GetJsonAsync("/api/v1/departments", token);
        r.Dispose();
        Assert.Equal(500, status);
        Assert.Equal("INTERNAL_SERVER_ERROR", body!["errorCode"]!.GetValue<string>());
        await Assert.ThrowsAsync<HttpRequestException>(() => raw.GetAsync("/api/v1/departments", token));

        using (var revoke = await raw.Http.PostAsync("/_emulator/revoke-access-tokens", null))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        var (after, code, r2) = await raw.GetJsonAsync("/api/v1/departments", token);
        r2.Dispose();
        Assert.Equal(401, after);
        Assert.Equal("INVALID_OAUTH", code!["errorCode"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_licence_limited_table_answers_403_LICENSE_ACCESS_LIMITED()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, LicenseLimitedTables = new HashSet<string> { "contracts" } });
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync();

        var (status, body, r) = await raw.GetJsonAsync("/api/v1/contracts", token);
        r.Dispose();

        Assert.Equal(403, status);
        Assert.Equal("LICENSE_ACCESS_LIMITED", body!["errorCode"]!.GetValue<string>());
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_share_of_records_is_answered_in_the_spread_real_answers_have_and_the_same_way_everywhere()
    {
        // Zoho's own example answers: epoch-ms times, counts and ids as numbers, booleans as strings, empty keys left out.
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 100 }, AnswerSpread = 4 });
        using var raw = new RawHttp(portal.Emulator);
        var token = await raw.AccessTokenAsync();

        var (status, body, response) = await raw.GetJsonAsync("/api/v1/tickets/search?limit=100&sortBy=createdTime", token);
        response.Dispose();

        Assert.Equal(200, status);
        var items = body!["data"]!.AsArray().Select(i => i!.AsObject()).ToList();
        var spread = items.Where(i => i["createdTime"] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number).ToList();
        Assert.InRange(spread.Count, 10, 45);
        Assert.All(spread, i => Assert.Equal(System.Text.Json.JsonValueKind.String, i["isSpam"]!.GetValueKind()));
        Assert.All(spread, i => Assert.Equal(System.Text.Json.JsonValueKind.Number, i["threadCount"]!.GetValueKind()));
        Assert.All(spread, i => Assert.Equal(System.Text.Json.JsonValueKind.Number, i["id"]!.GetValueKind()));
        Assert.All(spread, i => Assert.Equal(System.Text.Json.JsonValueKind.Number, i["departmentId"]!.GetValueKind()));
        Assert.All(items.Except(spread), i => Assert.Equal(System.Text.Json.JsonValueKind.String, i["createdTime"]!.GetValueKind()));

        // The detail of a spread record is spread too.
        var id = spread[0]["id"]!.ToJsonString();
        var (detailStatus, detail, detailResponse) = await raw.GetJsonAsync($"/api/v1/tickets/{id}", token);
        detailResponse.Dispose();
        Assert.Equal(200, detailStatus);
        Assert.Equal(System.Text.Json.JsonValueKind.Number, detail!["createdTime"]!.GetValueKind());
    }
}
