using System.Net;
using System.Text;
using DeskSync.Core.Journal;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.Tests.Webhooks;

/// <summary>The service URL against bad input: every refusal is explicit, nothing is journaled that was not accepted.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class WebhookReceiverTests : IAsyncLifetime
{
    private const string Org = "60012345678";
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-recv-").FullName;
    private readonly string _token = ServiceUrlToken.New();
    private DurableJournal _journal = null!;
    private WebhookServer _server = null!;
    private HttpClient _http = null!;

    private string Url => $"/hooks/{_token}";

    public async Task InitializeAsync()
    {
        _journal = DurableJournal.Open(Path.Combine(_dir, "journal"));
        _server = await WebhookServer.StartAsync(new WebhookServerOptions { Listen = "http://127.0.0.1:0" }, _journal, new WebhookReceiverOptions
        {
            Token = _token,
            OrgId = Org,
            QuarantineDirectory = Path.Combine(_dir, "quarantine"),
            MaxBodyBytes = 64 * 1024,
        });
        _http = new HttpClient { BaseAddress = _server.Address };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        await _journal.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Zohos_validation_probes_get_200_and_journal_nothing()
    {
        using var get = await _http.GetAsync(Url);
        using var head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, Url));
        using var empty = await _http.PostAsync(Url, new StringContent(""));
        using var emptyArray = await _http.PostAsync(Url, Json("[]"));
        using var emptyObject = await _http.PostAsync(Url, Json("{}"));

        Assert.All(new[] { get, head, empty, emptyArray, emptyObject }, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(JournalPosition.Start, _journal.End);
    }

    [Fact]
    public async Task A_stranger_learns_nothing_from_the_public_port()
    {
        var wrong = "/hooks/" + ServiceUrlToken.New();
        foreach (var method in new[] { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "FOO" })
        {
            foreach (var path in new[] { wrong, wrong + "/workflow", "/nothing-here", "/healthz", "/metrics" })
            {
                using var response = await _http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = method is "GET" or "HEAD" ? null : new StringContent("[]") });
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {(int)response.StatusCode}");
                Assert.Empty(response.Content.Headers.Allow);
                Assert.Equal(0, response.Content.Headers.ContentLength ?? 0);
            }
        }

        using var put = await _http.PutAsync(Url, new StringContent("[]")); // the right token, a method it does not take
        Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
        using var admin = new HttpClient();
        using var health = await admin.GetAsync(new Uri(_server.AdminAddress, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(_server.AdminAddress.Host)), "health and metrics answer on loopback by default");
        Assert.Equal(JournalPosition.Start, _journal.End);
    }

    [Fact]
    public async Task An_accepted_delivery_is_on_disk_before_the_200()
    {
        var body = $$$"""[{"eventType":"Ticket_Update","orgId":"{{{Org}}}","eventTime":"1618493667780","payload":{"id":"1","modifiedTime":"2021-04-15T13:34:27.000Z","status":"Open"}}]""";

        using var response = await _http.PostAsync(Url, Json(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"accepted\":1}", await response.Content.ReadAsStringAsync());
        var record = Assert.Single(_journal.Read(JournalPosition.Start));
        Assert.Equal(body, Encoding.UTF8.GetString(record.Payload));
    }

    [Theory]
    [InlineData("[{\"eventType\":\"Ticket_Update\",\"payload\":{\"id\":\"1\"}", "not valid JSON")]
    [InlineData("\"hello\"", "not an array")]
    [InlineData("[1,2]", "event 0 is not an object")]
    [InlineData("[{\"payload\":{\"id\":\"1\"}}]", "no eventType")]
    [InlineData("[{\"eventType\":\"Ticket_Update\",\"payload\":\"x\"}]", "no payload object")]
    [InlineData("[{\"eventType\":\"Ticket_Update\",\"eventTime\":\"yesterday\",\"payload\":{\"id\":\"1\"}}]", "eventTime")]
    public async Task A_malformed_body_gets_400_with_a_reason_and_is_quarantined(string body, string reason)
    {
        using var response = await _http.PostAsync(Url, Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(JournalPosition.Start, _journal.End);
        var kept = Assert.Single(Directory.GetFiles(Path.Combine(_dir, "quarantine"), "*.body"));
        Assert.Equal(body, await File.ReadAllTextAsync(kept));
    }

    [Fact]
    public async Task Invalid_UTF8_and_deep_nesting_are_refused_not_crashed_on()
    {
        using var utf8 = await _http.PostAsync(Url, new ByteArrayContent([(byte)'[', 0xC3, 0x28, (byte)']']));
        var deep = new string('[', 500) + new string(']', 500);
        using var nested = await _http.PostAsync(Url, Json(deep));

        Assert.Equal(HttpStatusCode.BadRequest, utf8.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, nested.StatusCode);
        Assert.Equal(JournalPosition.Start, _journal.End);
    }

    [Fact]
    public async Task Another_portals_events_are_refused_and_quarantined()
    {
        using var response = await _http.PostAsync(Url, Json("""[{"eventType":"Ticket_Add","orgId":"999","payload":{"id":"1"}}]"""));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("999", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(JournalPosition.Start, _journal.End);
        Assert.Single(Directory.GetFiles(Path.Combine(_dir, "quarantine"), "*.reason"));
    }

    [Fact]
    public async Task A_delivery_that_names_a_field_twice_is_refused_and_quarantined()
    {
        var body = $$$"""[{"eventType":"Ticket_Update","orgId":"{{{Org}}}","payload":{"id":"1","status":"Open","status":"Closed"}}]""";

        using var response = await _http.PostAsync(Url, Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var answer = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("Duplicate property 'status'", answer.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(JournalPosition.Start, _journal.End);
        Assert.Equal(body, await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(Path.Combine(_dir, "quarantine"), "*.body"))));
    }

    [Fact]
    public async Task A_body_over_the_limit_gets_413()
    {
        var huge = "[{\"eventType\":\"Ticket_Add\",\"payload\":{\"id\":\"1\",\"s\":\"" + new string('x', 70 * 1024) + "\"}}]";

        using var response = await _http.PostAsync(Url, Json(huge));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(JournalPosition.Start, _journal.End);
    }

    [Fact]
    public async Task A_body_without_a_length_is_read_whole_and_refused_past_the_limit()
    {
        // Chunked transfer (no Content-Length): the body is read piece by piece up to the limit.
        var events = string.Join(',', Enumerable.Range(1, 300).Select(i => $$$"""{"eventType":"Ticket_Update","orgId":"{{{Org}}}","eventTime":"1618493667780","payload":{"id":"{{{i}}}","subject":"{{{new string('s', 100)}}}"}}"""));
        var body = Encoding.UTF8.GetBytes("[" + events + "]");
        Assert.True(body.Length is > 16 * 1024 and < 64 * 1024); // more than one read, less than the limit
        var huge = Encoding.UTF8.GetBytes("[{\"eventType\":\"Ticket_Add\",\"payload\":{\"id\":\"1\",\"s\":\"" + new string('x', 70 * 1024) + "\"}}]");

        using var accepted = await _http.PostAsync(Url, Chunked(body));
        var end = _journal.End;
        using var refused = await _http.PostAsync(Url, Chunked(huge));

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal("{\"accepted\":300}", await accepted.Content.ReadAsStringAsync());
        Assert.Equal(body, Assert.Single(_journal.Read(JournalPosition.Start)).Payload);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Equal(end, _journal.End);
    }

    [Fact]
    public async Task An_unknown_token_is_indistinguishable_from_an_unknown_path()
    {
        using var wrongToken = await _http.PostAsync($"/hooks/{ServiceUrlToken.New()}", Json("[]"));
        using var wrongTokenGet = await _http.GetAsync($"/hooks/{ServiceUrlToken.New()}");
        using var unknownPath = await _http.PostAsync("/nothing/here", Json("[]"));

        Assert.Equal(HttpStatusCode.NotFound, wrongToken.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, wrongTokenGet.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownPath.StatusCode);
        Assert.Equal(await unknownPath.Content.ReadAsByteArrayAsync(), await wrongToken.Content.ReadAsByteArrayAsync());
        Assert.Equal(unknownPath.Content.Headers.ContentType, wrongToken.Content.Headers.ContentType);
    }

    [Fact]
    public async Task The_server_listens_with_TLS_from_a_certificate_file()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", rsa, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var pfx = Path.Combine(_dir, "sync.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "pw"));
        await using var journal = DurableJournal.Open(Path.Combine(_dir, "tls-journal"));
        await using var server = await WebhookServer.StartAsync(new WebhookServerOptions { Listen = "https://127.0.0.1:0", CertificatePath = pfx, CertificatePassword = "pw" }, journal, new WebhookReceiverOptions
        {
            Token = _token,
            OrgId = Org,
            QuarantineDirectory = Path.Combine(_dir, "q2"),
        });
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == certificate.Thumbprint };
        using var https = new HttpClient(handler) { BaseAddress = server.Address };

        using var response = await https.GetAsync(Url);

        Assert.Equal("https", server.Address.Scheme);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void Service_tokens_carry_at_least_128_bits_and_differ()
    {
        var tokens = Enumerable.Range(0, 1000).Select(_ => ServiceUrlToken.New()).ToList();

        Assert.Equal(1000, tokens.Distinct().Count());
        Assert.All(tokens, t => Assert.True(Convert.FromBase64String(t.Replace('-', '+').Replace('_', '/').PadRight((t.Length + 3) / 4 * 4, '=')).Length * 8 >= 128));
        Assert.True(ServiceUrlToken.Matches(tokens[0], tokens[0]));
        Assert.False(ServiceUrlToken.Matches(tokens[0], tokens[1]));
        Assert.False(ServiceUrlToken.Matches(tokens[0], null));
        Assert.False(ServiceUrlToken.Matches(tokens[0], tokens[0][..^1]));
        Assert.False(ServiceUrlToken.Matches(tokens[0], tokens[0] + "x"));
        Assert.False(ServiceUrlToken.Matches(tokens[0], tokens[0][..^1] + (tokens[0][^1] == 'A' ? 'B' : 'A')));
    }

    /// <summary>A body sent without a Content-Length (chunked), as a stream of unknown length.</summary>
    private static StreamContent Chunked(byte[] body)
    {
        var content = new StreamContent(new UnknownLengthStream(body));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    private sealed class UnknownLengthStream(byte[] body) : MemoryStream(body)
    {
        public override bool CanSeek => false;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
