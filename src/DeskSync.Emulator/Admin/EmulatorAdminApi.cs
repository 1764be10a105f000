using System.Text.Json.Nodes;
using DeskSync.Emulator.Desk;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DeskSync.Emulator.Admin;

/// <summary>
/// /_emulator/… — what tests and demos use to play the Zoho admin: mint grant codes, change
/// records (an update moves modifiedTime, a delete takes the record out of lists and
/// searches), inject faults, revoke tokens, and read the call counters. Not part of Zoho.
/// </summary>
internal sealed class EmulatorAdminApi(ZohoDeskEmulator emulator)
{
    public void Map(WebApplication app)
    {
        app.MapGet("/_emulator/portal", ctx => ZohoDeskEmulator.Json(ctx, 200, new JsonObject
        {
            ["orgId"] = emulator.Portal.OrgId,
            ["portalName"] = emulator.Options.PortalName,
            ["edition"] = emulator.Options.Edition,
            ["clientId"] = emulator.Client.ClientId,
            ["counts"] = new JsonObject(Portal.Modules.Select(m => KeyValuePair.Create(m, (JsonNode?)emulator.Portal.Count(m)))),
        }));

        app.MapPost("/_emulator/grant-codes", async ctx =>
        {
            var body = await ReadObject(ctx);
            var scopes = body?["scopes"] is JsonArray s ? s.Select(x => x!.GetValue<string>()).ToList() : null;
            var lifetime = body?["lifetimeSeconds"] is JsonValue v ? TimeSpan.FromSeconds(v.GetValue<int>()) : (TimeSpan?)null;
            var code = emulator.OAuth.MintGrantCode(emulator.Client.ClientId, scopes ?? [.. ZohoDeskEmulator.DefaultScopes], lifetime ?? emulator.Options.GrantCodeLifetime);
            await (code is null
                ? ZohoDeskEmulator.Json(ctx, 429, new JsonObject { ["error"] = "too many grant codes: Zoho allows 10 per client in 10 minutes" })
                : ZohoDeskEmulator.Json(ctx, 200, new JsonObject { ["code"] = code.Code, ["expiresAt"] = Portal.Iso(code.ExpiresAt) }));
        });

        app.MapPost("/_emulator/records/{module}", async (HttpContext ctx, string module) =>
        {
            if (!Portal.Modules.Contains(module))
            {
                await ZohoDeskEmulator.Json(ctx, 404, new JsonObject { ["error"] = $"unknown module {module}" });
                return;
            }

            var created = emulator.Portal.Create(module, await ReadObject(ctx));
            await ZohoDeskEmulator.Json(ctx, 201, created.DeepClone());
        });

        app.MapMethods("/_emulator/records/{module}/{id}", ["PATCH"], async (HttpContext ctx, string module, string id) =>
        {
            var updated = Portal.Modules.Contains(module) ? emulator.Portal.Update(module, id, await ReadObject(ctx) ?? []) : null;
            await (updated is null
                ? ZohoDeskEmulator.Json(ctx, 404, new JsonObject { ["error"] = "no such record" })
                : ZohoDeskEmulator.Json(ctx, 200, updated.DeepClone()));
        });

        app.MapDelete("/_emulator/records/{module}/{id}", (HttpContext ctx, string module, string id) =>
            Portal.Modules.Contains(module) && emulator.Portal.Delete(module, id)
                ? ZohoDeskEmulator.Json(ctx, 200, new JsonObject { ["deleted"] = id })
                : ZohoDeskEmulator.Json(ctx, 404, new JsonObject { ["error"] = "no such record" }));

        // A ticket's threads, comments, attachments and time entries.
        app.MapPost("/_emulator/records/tickets/{ticketId}/{kind}", async (HttpContext ctx, string ticketId, string kind) =>
        {
            var created = EmulatedChildren.Named(kind) is null ? null : emulator.Portal.AddChild(kind, ticketId, await ReadObject(ctx));
            await (created is null
                ? ZohoDeskEmulator.Json(ctx, 404, new JsonObject { ["error"] = $"no such ticket, or {kind} is not one of {string.Join(", ", EmulatedChildren.All.Select(c => c.Name))}" })
                : ZohoDeskEmulator.Json(ctx, 201, created.DeepClone()));
        });

        app.MapMethods("/_emulator/records/tickets/{ticketId}/{kind}/{id}", ["PATCH"], async (HttpContext ctx, string ticketId, string kind, string id) =>
        {
            var updated = EmulatedChildren.Named(kind) is null ? null : emulator.Portal.UpdateChild(kind, ticketId, id, await ReadObject(ctx) ?? []);
            await (updated is null
                ? ZohoDeskEmulator.Json(ctx, 404, new JsonObject { ["error"] = "no such record" })
                : ZohoDeskEmulator.Json(ctx, 200, updated.DeepClone()));
        });

        app.MapDelete("/_emulator/records/tickets/{ticketId}/{kind}/{id}", (HttpContext ctx, string ticketId, string kind, string id) =>
            EmulatedChildren.Named(kind) is not null && emulator.Portal.DeleteChild(kind, ticketId, id)
                ? ZohoDeskEmulator.Json(ctx, 200, new JsonObject { ["deleted"] = id })
                : ZohoDeskEmulator.Json(ctx, 404, new JsonObject { ["error"] = "no such record" }));

        app.MapPost("/_emulator/faults", async ctx =>
        {
            var body = await ReadObject(ctx) ?? [];
            var faults = emulator.Faults;
            if (body["latencyMs"] is JsonValue latency)
            {
                faults.Latency = TimeSpan.FromMilliseconds(latency.GetValue<double>());
            }

            if (body["errorRate"] is JsonValue errorRate)
            {
                faults.ErrorRate = errorRate.GetValue<double>();
            }

            if (body["dropRate"] is JsonValue dropRate)
            {
                faults.DropRate = dropRate.GetValue<double>();
            }

            if (body["next"] is JsonObject next)
            {
                var kind = Enum.Parse<FaultKind>(next["kind"]!.GetValue<string>(), ignoreCase: true);
                var status = next["status"]?.GetValue<int>() ?? 500;
                faults.Enqueue(new ScriptedFault(kind, status, next["errorCode"]?.GetValue<string>(), next["retryAfterSeconds"]?.GetValue<int>()), next["times"]?.GetValue<int>() ?? 1);
            }

            if (body["concurrencyCap"] is JsonValue cap)
            {
                emulator.Limits.ConcurrencyCap = cap.GetValue<int>();
            }

            if (body["creditsRemaining"] is JsonValue remaining)
            {
                emulator.Limits.SetRemaining(remaining.GetValue<long>());
            }

            await ZohoDeskEmulator.Json(ctx, 200, new JsonObject { ["ok"] = true });
        });

        app.MapDelete("/_emulator/faults", ctx =>
        {
            emulator.Faults.Clear();
            return ZohoDeskEmulator.Json(ctx, 200, new JsonObject { ["ok"] = true });
        });

        app.MapPost("/_emulator/revoke-access-tokens", ctx =>
            ZohoDeskEmulator.Json(ctx, 200, new JsonObject { ["revoked"] = emulator.OAuth.RevokeAllAccessTokens() }));

        app.MapGet("/_emulator/stats", ctx => ZohoDeskEmulator.Json(ctx, 200, new JsonObject
        {
            ["calls"] = new JsonObject(emulator.Api.Calls.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["accessTokensIssued"] = emulator.OAuth.AccessTokensIssued,
            ["creditsUsedToday"] = emulator.Limits.CreditsUsedToday,
            ["creditsRemaining"] = emulator.Limits.Remaining,
            ["peakConcurrency"] = emulator.Limits.PeakInFlight,
        }));
    }

    private static async Task<JsonObject?> ReadObject(HttpContext ctx)
    {
        if (ctx.Request.ContentLength is 0 || !(ctx.Request.ContentType ?? "").Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return await JsonNode.ParseAsync(ctx.Request.Body) as JsonObject;
    }
}
