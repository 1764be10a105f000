using System.Net;
using System.Text;
using System.Text.Json;
using DeskSync.Core;
using DeskSync.Core.Journal;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.Tests.Reliability;

/// <summary>Malformed and hostile webhook bodies: never a crash, never a 5xx, never a partial apply.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class HostileInputTests : IAsyncLifetime
{
    private const string Org = "60012345678";
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-hostile-").FullName;
    private readonly string _token = ServiceUrlToken.New();
    private DurableJournal _journal = null!;
    private WebhookServer _server = null!;
    private HttpClient _http = null!;
    private TestPortal _portal = null!;

    public async Task InitializeAsync()
    {
        _portal = await TestPortal.StartAsync();
        _journal = DurableJournal.Open(Path.Combine(_dir, "journal"));
        _server = await WebhookServer.StartAsync(new WebhookServerOptions { Listen = "http://127.0.0.1:0" }, _journal, new WebhookReceiverOptions
        {
            Token = _token,
            OrgId = Org,
            QuarantineDirectory = Path.Combine(_dir, "quarantine"),
        });
        _http = new HttpClient { BaseAddress = _server.Address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        await _journal.DisposeAsync();
        await _portal.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The case names only: xunit serializes theory data at discovery, and megabytes of bodies made that take minutes.</summary>
    public static TheoryData<string> Corpus()
    {
        var names = new TheoryData<string>();
        foreach (var row in Bodies())
        {
            names.Add((string)row[0]);
        }

        return names;
    }

    private static (byte[] Body, string ContentType, int Expected) Case(string name) =>
        Bodies().Where(row => (string)row[0] == name).Select(row => ((byte[])row[1], (string)row[2], (int)row[3])).Single();

    private static TheoryData<string, byte[], string, int> Bodies()
    {
        static byte[] U(string s) => Encoding.UTF8.GetBytes(s);
        var valid = $"[{{\"eventType\":\"Ticket_Update\",\"orgId\":\"{Org}\",\"eventTime\":\"1700000000000\",\"payload\":{{\"id\":\"1\",\"modifiedTime\":\"2026-01-01T00:00:00.000Z\"}}}}]";
        return new TheoryData<string, byte[], string, int>
        {
            { "truncated JSON", U(valid[..^7]), "application/json", 400 },
            { "eventType is a number", U("[{\"eventType\":7,\"payload\":{\"id\":\"1\"}}]"), "application/json", 400 },
            { "payload is an array", U("[{\"eventType\":\"Ticket_Add\",\"payload\":[1]}]"), "application/json", 400 },
            { "a huge string", U($"[{{\"eventType\":\"Ticket_Add\",\"orgId\":\"{Org}\",\"payload\":{{\"id\":\"1\",\"subject\":\"{new string('x', 900_000)}\"}}}}]"), "application/json", 200 },
            { "nesting 10,000 deep", U(new string('[', 10_000) + new string(']', 10_000)), "application/json", 400 },
            { "an unknown event type", U($"[{{\"eventType\":\"Spaceship_Launch\",\"orgId\":\"{Org}\",\"payload\":{{\"id\":\"1\"}}}}]"), "application/json", 200 },
            { "another orgId", U(valid.Replace(Org, "1", StringComparison.Ordinal)), "application/json", 403 },
            { "a 10 MB body", new byte[10 << 20], "application/json", 413 },
            { "invalid UTF-8", [(byte)'[', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)']'], "application/json", 400 },
            { "form-encoded", U("eventType=Ticket_Add&id=1"), "application/x-www-form-urlencoded", 400 },
            { "NUL characters", U(valid.Replace("\"1\"", "\"1\\u0000\"", StringComparison.Ordinal)), "application/json", 200 },
            { "10,000 events", U("[" + string.Join(',', Enumerable.Range(0, 10_000).Select(i => $"{{\"eventType\":\"Ticket_Update\",\"orgId\":\"{Org}\",\"payload\":{{\"id\":\"{i}\"}}}}")) + "]"), "application/json", 200 },
            { "a JSON number", U("42"), "application/json", 400 },
            { "times past year 9999 and text where a time belongs", U($"[{{\"eventType\":\"Ticket_Update\",\"orgId\":\"{Org}\",\"eventTime\":\"1700000000000\",\"payload\":{{\"id\":\"1\",\"modifiedTime\":\"2026-01-01T00:00:00.000Z\",\"dueDate\":\"99999999999999999\",\"closedTime\":99999999999999999,\"createdTime\":\"never\",\"isSpam\":\"perhaps\",\"threadCount\":\"1e400\"}}}}]"), "application/json", 200 },
            { "an epoch past year 9999 as the eventTime", U($"[{{\"eventType\":\"Ticket_Update\",\"orgId\":\"{Org}\",\"eventTime\":\"99999999999999999\",\"payload\":{{\"id\":\"1\"}}}}]"), "application/json", 400 },
            { "an empty payload object", U($"[{{\"eventType\":\"Ticket_Update\",\"orgId\":\"{Org}\",\"payload\":{{}}}}]"), "application/json", 200 },
        };
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task Every_hostile_body_gets_a_clear_answer_and_the_journal_stays_applicable(string name)
    {
        var (body, contentType, expected) = Case(name);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);

        int status;
        try
        {
            using var response = await _http.PostAsync($"/hooks/{_token}", content);
            status = (int)response.StatusCode;
        }
        catch (HttpRequestException) when (expected == 413)
        {
            status = 413; // the server answered 413 and closed the connection while the client was still sending
        }

        Assert.True(expected == status, $"{name}: HTTP {status}");
        using (var health = await _http.GetAsync(new Uri(_server.AdminAddress, "/healthz")))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        // Whatever was accepted must apply without error: no partial apply, no crash.
        var records = _journal.Read(JournalPosition.Start).ToList();
        Assert.Equal(expected == 200 ? 1 : 0, records.Count);
        await using var sink = new SqliteSink(Path.Combine(_dir, "apply.db"), SinkMode.Flat);
        await sink.InitializeAsync(default);
        var applier = new JournalApplier(_journal, sink, await _portal.ConnectAsync(), new Dictionary<string, TableSchema> { ["tickets"] = FullLoad.SchemaOf(DeskStreams.Tickets, new Dictionary<string, IReadOnlyList<JsonElement>>()) });
        await applier.RunAsync(follow: false, default);
        Assert.Equal(_journal.End, applier.Position);
    }

    [Fact]
    public void Random_mutations_of_a_valid_body_never_make_the_parser_or_mapper_throw()
    {
        var valid = Encoding.UTF8.GetBytes($"[{{\"eventType\":\"Ticket_Update\",\"orgId\":\"{Org}\",\"eventTime\":\"2026-01-01T00:00:00Z\",\"payload\":{{\"id\":\"123456789012345678\",\"modifiedTime\":\"2026-01-01T00:00:00.000Z\",\"isDeleted\":\"true\",\"cf\":{{\"cf_x\":\"1\"}}}},\"prevState\":{{\"status\":\"Open\"}}}},{{\"eventType\":\"Ticket_Thread_Add\",\"payload\":{{\"ticketId\":9}}}}]");
        var random = new Random(20261127);
        var kinds = new Dictionary<BodyKind, int>();
        for (var i = 0; i < 20_000; i++)
        {
            var mutated = Mutate(valid, random);
            var parsed = WebhookBody.Parse(mutated);
            kinds[parsed.Kind] = kinds.GetValueOrDefault(parsed.Kind) + 1;
            foreach (var e in parsed.Events)
            {
                _ = WebhookEventMapper.Map(e);
            }

            _ = WorkflowBody.FindRecord(WorkflowBody.Fields(mutated, i % 2 == 0 ? "application/json" : "application/x-www-form-urlencoded"));
        }

        Assert.True(kinds.GetValueOrDefault(BodyKind.Malformed) > 1_000, "the fuzzer must reach the error paths");
        Assert.True(kinds.GetValueOrDefault(BodyKind.Events) > 1_000, "and the happy path");
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = valid.ToList();
        for (var n = random.Next(1, 4); n > 0 && bytes.Count > 0; n--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 20)));
                    break;
                case 2:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(random.Next(4) switch { 0 => "{", 1 => "\"x\":", 2 => "null", _ => "[[[" }));
                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    break; // sometimes leave it whole
            }
        }

        return [.. bytes];
    }
}
