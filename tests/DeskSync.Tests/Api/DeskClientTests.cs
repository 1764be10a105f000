using System.Text.Json;
using DeskSync.Emulator;
using DeskSync.Emulator.Desk;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Api;
using Microsoft.Extensions.Time.Testing;

namespace DeskSync.Tests.Api;

/// <summary>DeskSync's Desk API client against the emulator over loopback HTTP.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class DeskClientTests
{
    [Theory]
    [InlineData("products", 5, 3)]  // 5 + 5 + 2: the short page ends the listing
    [InlineData("contracts", 3, 4)] // 3 + 3 + 3, then a 204 ends it
    public async Task A_listing_returns_every_record_once_and_stops_on_a_short_page_or_204(string table, int pageSize, int expectedCalls)
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();

        var ids = await Ids(client.ListAsync(table, pageSize, label: table));

        Assert.Equal(portal.Emulator.Portal.List(table).Select(r => r["id"]!.GetValue<string>()).Order(), ids.Order());
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(expectedCalls, client.Log.ByLabel[table].Calls);
        Assert.Equal(expectedCalls * 3, client.Log.ByLabel[table].Credits);
    }

    [Fact]
    public async Task A_listing_is_exact_when_Zoho_counts_from_one()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, FromBase = 1 });
        var client = await portal.ConnectAsync();

        var ids = await Ids(client.ListAsync("contacts", 6, label: "contacts"));

        Assert.Equal(portal.Emulator.Portal.List("contacts").Select(r => r["id"]!.GetValue<string>()).Order(), ids.Order());
    }

    [Fact]
    public async Task A_listing_past_the_offset_wall_fails_instead_of_stopping_short()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 5_050 } });
        var client = await portal.ConnectAsync();
        var seen = 0;

        var ex = await Assert.ThrowsAsync<ZohoApiException>(async () =>
        {
            await foreach (var _ in client.ListAsync("tickets", 100, label: "tickets"))
            {
                seen++;
            }
        });

        Assert.Equal(ZohoFailureKind.OffsetLimit, ex.Kind);
        Assert.Equal(5_000, seen);
        Assert.False(portal.Emulator.Api.Calls.ContainsKey("error:UNPROCESSABLE_ENTITY"), "the client must not send from=5000");
    }

    [Fact]
    public async Task INVALID_OAUTH_renews_the_token_once_and_retries()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        await client.GetOrganizationsAsync();
        var issued = portal.Emulator.OAuth.AccessTokensIssued;
        portal.Emulator.OAuth.RevokeAllAccessTokens();

        var orgs = await client.GetOrganizationsAsync();

        Assert.Single(orgs);
        Assert.Equal(issued + 1, portal.Emulator.OAuth.AccessTokensIssued);
        Assert.Equal(1, portal.Emulator.Api.Calls["error:INVALID_OAUTH"]);
    }

    [Fact]
    public async Task A_wrong_org_id_is_a_configuration_error_that_says_what_to_check()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync(TestPortal.FastRetries("999999"));

        var ex = await Assert.ThrowsAsync<ZohoApiException>(() => client.GetTicketsCountAsync());

        Assert.Equal(ZohoFailureKind.Configuration, ex.Kind);
        Assert.Equal("OAUTH_ORG_MISMATCH", ex.ErrorCode);
        Assert.Contains("org ID", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, portal.Emulator.Api.Calls["error:OAUTH_ORG_MISMATCH"]);
    }

    [Fact]
    public async Task A_missing_scope_is_a_configuration_error_naming_the_scope()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync(scopes: ["Desk.tickets.READ"]);

        var ex = await Assert.ThrowsAsync<ZohoApiException>(async () => await Ids(client.ListAsync("contacts", 10)));

        Assert.Equal(ZohoFailureKind.Configuration, ex.Kind);
        Assert.Contains("Desk.contacts.READ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_errors_and_dropped_connections_are_retried()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        portal.Emulator.Faults.Enqueue(new ScriptedFault(FaultKind.ServerError), times: 2);
        portal.Emulator.Faults.Enqueue(new ScriptedFault(FaultKind.Drop));

        var count = await client.GetTicketsCountAsync();

        Assert.Equal(30, count);
        Assert.Equal(4, client.Log.ByLabel["tickets"].Calls);
        Assert.Equal(3, client.Log.ByLabel["tickets"].Failures);
    }

    [Theory]
    [InlineData(FaultKind.CutBody, false)]
    [InlineData(FaultKind.StallBody, false)]
    [InlineData(FaultKind.CutBody, true)]
    [InlineData(FaultKind.StallBody, true)]
    [InlineData(FaultKind.GarbledBody, false)] // says gzip, is not: does not inflate
    public async Task An_answer_cut_or_stalled_halfway_through_its_body_is_asked_for_again_and_arrives_whole(FaultKind fault, bool compressed)
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 250 }, CompressAnswers = compressed });
        var client = await portal.ConnectAsync(TestPortal.FastRetries(portal.Emulator.Portal.OrgId) with { AttemptTimeout = TimeSpan.FromSeconds(1) });
        portal.Emulator.Faults.Enqueue(new ScriptedFault(fault));

        // A stalled body would wait forever without a timeout on it; the test's own bound catches that.
        using var page = await client.GetAsync("tickets/search", PageQuery(), label: "tickets").WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(100, DeskClient.View(page).Count);
        Assert.Equal(1, portal.Emulator.Api.Calls["fault:" + fault]);
        Assert.Equal(compressed, portal.Emulator.CompressedAnswers > 0);
        // The broken answer and the whole one, each counted once; when the cut reaches the client
        // before any of the answer did, its handler sends the request again unseen (one call).
        Assert.InRange(client.Log.ByLabel["tickets"].Calls, 1, 2);
    }

    [Theory]
    [InlineData(FaultKind.DeflatedBody)] // zlib-wrapped, as RFC 9110 has it
    [InlineData(FaultKind.RawDeflatedBody)] // no zlib header, as some servers send it
    [InlineData(FaultKind.IdentityEncoding)] // no encoding at all, said out loud
    public async Task A_deflated_or_identity_answer_that_was_not_asked_for_is_read_without_another_call(FaultKind fault)
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 250 } });
        var client = await portal.ConnectAsync(TestPortal.FastRetries(portal.Emulator.Portal.OrgId));
        using var plain = await client.GetAsync("tickets/search", PageQuery(), label: "plain");
        portal.Emulator.Faults.Enqueue(new ScriptedFault(fault));

        using var page = await client.GetAsync("tickets/search", PageQuery(), label: "tickets");

        Assert.Equal(1, portal.Emulator.Api.Calls["fault:" + fault]);
        Assert.Equal(1, client.Log.ByLabel["tickets"].Calls);
        Assert.Equal(fault == FaultKind.IdentityEncoding ? 0 : 1, client.Log.CompressedAnswers);
        Assert.Equal(plain!.RootElement.GetRawText(), page!.RootElement.GetRawText());
    }

    [Fact]
    public async Task An_answer_in_an_encoding_DeskSync_cannot_decode_fails_as_configuration_without_retries()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small with { Tickets = 250 } });
        var client = await portal.ConnectAsync(TestPortal.FastRetries(portal.Emulator.Portal.OrgId));
        portal.Emulator.Faults.Enqueue(new ScriptedFault(FaultKind.UnknownEncoding), times: 10);

        var ex = await Assert.ThrowsAsync<ZohoApiException>(() => client.GetAsync("tickets/search", PageQuery(), label: "tickets"));

        Assert.Equal(ZohoFailureKind.Configuration, ex.Kind);
        Assert.Contains("\"zstd\"", ex.Message, StringComparison.Ordinal);
        Assert.Contains("tickets/search", ex.Message, StringComparison.Ordinal);
        // Each retry would have cost a call's credits for the same answer.
        Assert.Equal(1, client.Log.ByLabel["tickets"].Calls);
        Assert.Equal(1, portal.Emulator.Api.Calls["fault:" + FaultKind.UnknownEncoding]);
    }

    /// <summary>
    /// Moves the fake clock on by <paramref name="step"/> until the retry it waits on has run: the
    /// next retry's callback, or the answer. Polly calls the retry callback before it starts the
    /// delay on the clock; a single move made before the delay exists ends nothing, and the call
    /// then waits for good — the likely cause of a CI run in which the exponential back-off test
    /// waited 10 s for a retry that never came. Moving on until something happens cannot lose it.
    /// </summary>
    private static async Task AdvancePastDelayAsync(FakeTimeProvider time, TimeSpan step, SemaphoreSlim nextRetry, Task call)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (nextRetry.CurrentCount == 0 && !call.IsCompleted)
        {
            Assert.True(DateTime.UtcNow < deadline, "the retry's delay never ran out on the fake clock");
            time.Advance(step);
            await Task.Delay(20);
        }
    }

    private static KeyValuePair<string, string?>[] PageQuery() =>
        [new("createdTimeRange", "2000-01-01T00:00:00.000Z,2100-01-01T00:00:00.000Z"), new("sortBy", "createdTime"), new("from", "0"), new("limit", "100")];

    [Fact]
    public async Task A_lasting_outage_fails_as_transient_after_the_retries()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync(TestPortal.FastRetries(portal.Emulator.Portal.OrgId) with { MaxRetryAttempts = 2 });
        portal.Emulator.Faults.ErrorRate = 1.0;

        var ex = await Assert.ThrowsAsync<ZohoApiException>(() => client.GetTicketsCountAsync());

        Assert.True(ex.IsTransient);
        Assert.Equal(3, client.Log.ByLabel["tickets"].Calls);
    }

    [Fact]
    public async Task Retry_After_is_honoured_on_a_fake_clock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var portal = await TestPortal.StartAsync();
        var delays = new List<TimeSpan>();
        var waiting = new SemaphoreSlim(0);
        var client = await portal.ConnectAsync(time: time, onRetry: (_, delay, _) =>
        {
            lock (delays)
            {
                delays.Add(delay);
            }

            waiting.Release();
        });
        portal.Emulator.Faults.Enqueue(new ScriptedFault(FaultKind.ThresholdExceeded, RetryAfterSeconds: 30), times: 2);

        var call = client.GetTicketsCountAsync();
        for (var i = 0; i < 2; i++)
        {
            Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.False(call.IsCompleted);
            await AdvancePastDelayAsync(time, TimeSpan.FromSeconds(30), waiting, call);
        }

        Assert.Equal(30, await call);
        Assert.Equal([TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)], delays);
    }

    [Fact]
    public async Task Too_many_concurrent_calls_back_off_exponentially_on_a_fake_clock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var portal = await TestPortal.StartAsync();
        var delays = new List<TimeSpan>();
        var waiting = new SemaphoreSlim(0);
        var options = TestPortal.FastRetries(portal.Emulator.Portal.OrgId) with { RetryBaseDelay = TimeSpan.FromSeconds(1), RetryMaxDelay = TimeSpan.FromSeconds(60) };
        var client = await portal.ConnectAsync(options, time, (_, delay, _) =>
        {
            delays.Add(delay);
            waiting.Release();
        });
        portal.Emulator.Faults.Enqueue(new ScriptedFault(FaultKind.TooManyRequests), times: 3);

        var call = client.GetTicketsCountAsync();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
            await AdvancePastDelayAsync(time, delays[^1], waiting, call);
        }

        Assert.Equal(30, await call);
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(60)));
        Assert.True(delays.Sum(d => d.TotalSeconds) > 1.0, "backoff must wait");
    }

    [Fact]
    public async Task Daily_credits_used_up_fails_with_the_reset_time_instead_of_waiting_hours()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, DailyCredits = 100 });
        var client = await portal.ConnectAsync();
        await client.GetTicketsCountAsync();
        portal.Emulator.Limits.SetRemaining(0); // another integration spent the rest

        var ex = await Assert.ThrowsAsync<ZohoApiException>(() => client.GetTicketsCountAsync());

        Assert.Equal(ZohoFailureKind.CreditsExhausted, ex.Kind);
        Assert.Equal("THRESHOLD_EXCEEDED", ex.ErrorCode);
        Assert.NotNull(ex.RetryAfter);
        Assert.Equal(1, portal.Emulator.Api.Calls["error:THRESHOLD_EXCEEDED"]);
    }

    [Fact]
    public async Task The_client_refuses_to_spend_into_its_credit_reserve()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, DailyCredits = 20 });
        var client = await portal.ConnectAsync(TestPortal.FastRetries(portal.Emulator.Portal.OrgId) with { CreditReserve = 16 });
        await client.GetTicketsCountAsync(); // 19 left
        await client.GetTicketsCountAsync(); // 18 left
        var callsBefore = portal.Emulator.Api.TotalCalls;

        var ex = await Assert.ThrowsAsync<ZohoApiException>(async () => await Ids(client.ListAsync("products", 5)));

        Assert.Equal(ZohoFailureKind.CreditsExhausted, ex.Kind);
        Assert.Contains("reserve", ex.Message, StringComparison.Ordinal);
        Assert.Equal(callsBefore, portal.Emulator.Api.TotalCalls);
        Assert.Equal(18, client.Log.RemainingCredits);
    }

    [Fact]
    public async Task The_concurrency_limit_keeps_calls_under_the_edition_cap()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, ConcurrencyCap = 4 });
        portal.Emulator.Faults.Latency = TimeSpan.FromMilliseconds(40);
        var client = await portal.ConnectAsync(TestPortal.FastRetries(portal.Emulator.Portal.OrgId) with { MaxConcurrency = 4 });

        await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => client.GetTicketsCountAsync()));

        Assert.False(portal.Emulator.Api.Calls.ContainsKey("error:TOO_MANY_REQUESTS"));
        Assert.Equal(4, portal.Emulator.Limits.PeakInFlight);
        Assert.Equal(40, client.Log.ByLabel["tickets"].Calls);
    }

    [Fact]
    public async Task A_table_the_licence_forbids_is_reported_as_forbidden()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, LicenseLimitedTables = new HashSet<string> { "contracts" } });
        var client = await portal.ConnectAsync();

        var ex = await Assert.ThrowsAsync<ZohoApiException>(async () => await Ids(client.ListAsync("contracts", 10)));

        Assert.Equal(ZohoFailureKind.Forbidden, ex.Kind);
        Assert.Equal("LICENSE_ACCESS_LIMITED", ex.ErrorCode);
    }

    [Fact]
    public async Task Compressed_error_answers_are_read_and_classified_like_plain_ones()
    {
        await using var portal = await TestPortal.StartAsync(new EmulatorOptions { Counts = TestPortal.Small, DailyCredits = 100, CompressAnswers = true });
        var client = await portal.ConnectAsync();
        Assert.True(await client.GetTicketsCountAsync() > 0);
        portal.Emulator.Limits.SetRemaining(0);

        var ex = await Assert.ThrowsAsync<ZohoApiException>(() => client.GetTicketsCountAsync());

        // Both answers were compressed; the error's code, kind and Retry-After came through.
        Assert.Equal(2, portal.Emulator.CompressedAnswers);
        Assert.Equal(0, portal.Emulator.PlainAnswers);
        Assert.Equal(ZohoFailureKind.CreditsExhausted, ex.Kind);
        Assert.Equal("THRESHOLD_EXCEEDED", ex.ErrorCode);
        Assert.NotNull(ex.RetryAfter);
    }

    private static async Task<List<string>> Ids(IAsyncEnumerable<JsonElement> items)
    {
        var ids = new List<string>();
        await foreach (var item in items)
        {
            ids.Add(item.GetProperty("id").ToString());
        }

        return ids;
    }
}
