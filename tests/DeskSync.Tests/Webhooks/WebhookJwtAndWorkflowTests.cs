using System.Net;
using System.Security.Cryptography;
using System.Text;
using DeskSync.Core;
using DeskSync.Sinks.Sqlite;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Streams;
using DeskSync.ZohoDesk.Sync;
using DeskSync.ZohoDesk.Webhooks;
using Microsoft.Data.Sqlite;

namespace DeskSync.Tests.Webhooks;

[Trait(Lanes.Key, Lanes.Integration)]
public sealed class WebhookJwtAndWorkflowTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-jwt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task The_verifier_accepts_Zohos_signature_and_rejects_forged_expired_and_foreign_tokens()
    {
        await using var portal = await TestPortal.StartAsync();
        using var http = new HttpClient();
        var jwks = new Uri(portal.Emulator.BaseUrl, ".well-known/jwks.json");
        var verifier = new WebhookJwtVerifier(http, jwks, portal.Emulator.Portal.OrgId);
        var sender = portal.Emulator.Webhooks;

        Assert.True((await verifier.VerifyAsync(sender.Sign("123"), default)).Valid);
        Assert.False((await verifier.VerifyAsync(null, default)).Valid);
        Assert.False((await verifier.VerifyAsync("not.a.jwt", default)).Valid);
        Assert.Contains("expired", (await verifier.VerifyAsync(sender.Sign("123", TimeSpan.FromMinutes(-10)), default)).Reason, StringComparison.Ordinal);
        Assert.False((await new WebhookJwtVerifier(http, jwks, "999").VerifyAsync(sender.Sign("123"), default)).Valid);
        Assert.False((await new WebhookJwtVerifier(http, jwks, portal.Emulator.Portal.OrgId, ["456"]).VerifyAsync(sender.Sign("123"), default)).Valid);
        Assert.True((await new WebhookJwtVerifier(http, jwks, portal.Emulator.Portal.OrgId, ["123"]).VerifyAsync(sender.Sign("123"), default)).Valid);

        // Same header and claims, signed with a key that is not Zoho's.
        var genuine = sender.Sign("123").Split('.');
        using var other = RSA.Create(2048);
        var forgedSignature = other.SignData(Encoding.ASCII.GetBytes(genuine[0] + "." + genuine[1]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var forged = genuine[0] + "." + genuine[1] + "." + Convert.ToBase64String(forgedSignature).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.False((await verifier.VerifyAsync(forged, default)).Valid);
    }

    [Fact]
    public async Task With_verification_on_signed_deliveries_are_applied_and_unsigned_posts_get_401()
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        using var http = new HttpClient();
        var token = ServiceUrlToken.New();
        await using var sink = new SqliteSink(Path.Combine(_dir, "jwt.db"), SinkMode.Flat);
        await using var sync = new RealtimeSync(client, sink, Realtime.Options(portal, _dir, [DeskStreams.Tickets], token) with
        {
            Jwt = new WebhookJwtVerifier(http, new Uri(portal.Emulator.BaseUrl, ".well-known/jwks.json"), portal.Emulator.Portal.OrgId),
        });
        await sync.StartReceiverAsync(default);
        var url = ServiceUrlToken.Url(sync.Server!.Address.ToString(), token);
        await WebhookRegistration.RegisterAsync(client, url, [DeskStreams.Tickets], "jwt", default);
        var (run, stop) = await Realtime.StartStreamingAsync(sync);
        using var _ = stop;

        var ticket = portal.Emulator.Portal.List("tickets")[0]["id"]!.GetValue<string>();
        portal.Emulator.Portal.Update("tickets", ticket, new System.Text.Json.Nodes.JsonObject { ["subject"] = "signed change" });
        using var unsigned = await http.PostAsync(url, new StringContent("[{\"eventType\":\"Ticket_Update\",\"orgId\":\"" + portal.Emulator.Portal.OrgId + "\",\"payload\":{\"id\":\"" + ticket + "\",\"subject\":\"forged\",\"modifiedTime\":\"2099-01-01T00:00:00.000Z\"}}]", Encoding.UTF8, "application/json"));
        await portal.Emulator.Webhooks.WaitIdleAsync(TimeSpan.FromSeconds(30));
        await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await run;

        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        Assert.Equal(1, portal.Emulator.Webhooks.EventsDelivered);
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_dir, "jwt.db")};Pooling=False");
        await connection.OpenAsync();
        var rows = await TargetVerifier.ReadRowsAsync(connection, $"SELECT id, subject FROM tickets WHERE id = '{ticket}'");
        Assert.Equal("signed change", rows[ticket]["subject"]);
    }

    [Theory]
    [InlineData("application/json", "{\"ticketId\":\"{id}\"}")]
    [InlineData("application/json", "{\"text\":\"Ticket {id} was updated by a rule\"}")]
    [InlineData("application/json", "{\"data\":{\"id\":\"{id}\",\"module\":\"tickets\"}}")]
    [InlineData("application/x-www-form-urlencoded", "id={id}&module=tickets")]
    [InlineData("text/plain", "please refresh {id}")]
    public async Task A_workflow_rule_call_refreshes_the_record_it_names(string contentType, string template)
    {
        await using var portal = await TestPortal.StartAsync();
        var client = await portal.ConnectAsync();
        var token = ServiceUrlToken.New();
        await using var sink = new SqliteSink(Path.Combine(_dir, "wf.db"), SinkMode.Flat);
        await using var sync = new RealtimeSync(client, sink, Realtime.Options(portal, _dir, [DeskStreams.Tickets], token));
        await sync.StartReceiverAsync(default);
        var (run, stop) = await Realtime.StartStreamingAsync(sync);
        using var _ = stop;

        // Changed in Zoho with no webhook registered: only the workflow call tells DeskSync.
        var ticket = portal.Emulator.Portal.List("tickets")[5]["id"]!.GetValue<string>();
        portal.Emulator.Portal.Update("tickets", ticket, new System.Text.Json.Nodes.JsonObject { ["subject"] = "changed by a rule" });
        using var http = new HttpClient();
        using var response = await http.PostAsync(ServiceUrlToken.Url(sync.Server!.Address.ToString(), token) + "/workflow",
            new StringContent(template.Replace("{id}", ticket, StringComparison.Ordinal), Encoding.UTF8, contentType));
        await sync.WaitCaughtUpAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await run;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, sync.Applier!.Rereads);
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_dir, "wf.db")};Pooling=False");
        await connection.OpenAsync();
        var rows = await TargetVerifier.ReadRowsAsync(connection, $"SELECT id, subject FROM tickets WHERE id = '{ticket}'");
        Assert.Equal("changed by a rule", rows[ticket]["subject"]);
    }

    [Fact]
    public void A_workflow_body_without_a_record_id_is_not_guessed()
    {
        Assert.Null(WorkflowBody.FindRecord(WorkflowBody.Fields("{\"text\":\"ticket #123 changed\"}"u8.ToArray(), "application/json")).Id);
        Assert.Equal(("Contact", "123456789012345678"), WorkflowBody.FindRecord(WorkflowBody.Fields("contactId=123456789012345678"u8.ToArray(), "application/x-www-form-urlencoded")));
    }
}
