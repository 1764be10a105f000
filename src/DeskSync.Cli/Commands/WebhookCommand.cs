using System.CommandLine;
using DeskSync.Cli.Config;
using DeskSync.ZohoDesk.Webhooks;

namespace DeskSync.Cli.Commands;

/// <summary>`desksync webhook url|register|list|delete`.</summary>
internal static class WebhookCommand
{
    public static Command Build(GlobalOptions global)
    {
        var publicUrl = new Option<string?>("--public-url") { Description = "The public base URL Zoho reaches DeskSync at (https://sync.example.com)." };
        var url = new Command("url", "Print this data source's service URL (keep it secret: anyone who has it can post events).") { publicUrl };
        url.SetAction(parse => CommandRunner.RunAsync(Console.Error, () =>
        {
            var configPath = global.ConfigPath(parse);
            var name = parse.GetValue(global.Source) ?? "default";
            var source = DeskSyncConfig.Load(configPath).Resolve(parse.GetValue(global.Source));
            var (token, notice) = ServiceTokens.Ensure(configPath, name);
            var baseUrl = parse.GetValue(publicUrl) ?? source.PublicUrl
                ?? throw new ConfigException("Give the public base URL Zoho reaches DeskSync at: --public-url https://sync.example.com (or publicUrl in the settings). Zoho needs port 80 or 443.");
            if (notice is not null)
            {
                OutputLog.Info("service_url", notice);
            }

            Console.Out.WriteLine(ServiceUrlToken.Url(baseUrl, token));
            return Task.FromResult(ExitCodes.Success);
        }).GetAwaiter().GetResult());

        var tables = new Option<string?>("--tables") { Description = "Tables whose events to subscribe to (default all that have events)." };
        var register = new Command("register", "Create the Zoho Desk webhook for this data source (the receiver, `desksync run`, must be reachable: Zoho validates the URL).") { publicUrl, tables };
        register.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, async () =>
        {
            var configPath = global.ConfigPath(parse);
            using var context = await SourceContext.OpenAsync(configPath, parse.GetValue(global.Source), ct);
            var (token, _) = ServiceTokens.Ensure(configPath, context.Name);
            var baseUrl = parse.GetValue(publicUrl) ?? context.Source.PublicUrl
                ?? throw new ConfigException("Give the public base URL: --public-url https://sync.example.com (or publicUrl in the settings).");
            System.Text.Json.JsonElement hook;
            try
            {
                hook = await WebhookRegistration.RegisterAsync(context.Connection.Client, ServiceUrlToken.Url(baseUrl, token),
                    SyncCommand.SelectTables(parse.GetValue(tables), context.Source.Tables), $"DeskSync {context.Name}", ct);
            }
            catch (ArgumentException ex)
            {
                throw new ConfigException(ex.Message.Split(" (Parameter")[0]);
            }
            catch (DeskSync.ZohoDesk.Api.ZohoApiException ex) when (ex.Kind == DeskSync.ZohoDesk.Api.ZohoFailureKind.Configuration)
            {
                // Zoho checks the URL before it creates the webhook: a refusal here is almost always that check.
                throw new ConfigException($"Zoho would not create the webhook for {ServiceTokens.Redact(ServiceUrlToken.Url(baseUrl, token))}: it checks the URL first (a GET, then a POST), which must reach `desksync run` from the internet on port 80 or 443. Is `desksync run` up, and does {baseUrl} lead to it (a TLS proxy in front, --public-url right)? Zoho answered: {ex.Message}");
            }

            Console.Out.WriteLine($"Created webhook {hook.GetProperty("id")} for {ServiceTokens.Redact(ServiceUrlToken.Url(baseUrl, token))}.");
            SavePublicUrl(configPath, context.Name, baseUrl);
            return ExitCodes.Success;
        }));

        var list = new Command("list", "List the portal's webhooks.");
        list.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, async () =>
        {
            using var context = await SourceContext.OpenAsync(global.ConfigPath(parse), parse.GetValue(global.Source), ct);
            foreach (var hook in await WebhookRegistration.ListAsync(context.Connection.Client, ct))
            {
                var enabled = hook.TryGetProperty("isEnabled", out var e) && e.ValueKind == System.Text.Json.JsonValueKind.True;
                var target = hook.TryGetProperty("url", out var u) ? ServiceTokens.Redact(u.GetString() ?? "") : "?";
                Console.Out.WriteLine($"{hook.GetProperty("id")}  {(enabled ? "enabled " : "disabled")}  {target}");
            }

            return ExitCodes.Success;
        }));

        var id = new Argument<string>("id") { Description = "The webhook's id (from `desksync webhook list`)." };
        var delete = new Command("delete", "Delete a webhook of the portal.") { id };
        delete.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, async () =>
        {
            using var context = await SourceContext.OpenAsync(global.ConfigPath(parse), parse.GetValue(global.Source), ct);
            await WebhookRegistration.DeleteAsync(context.Connection.Client, parse.GetValue(id)!, ct);
            Console.Out.WriteLine($"Deleted webhook {parse.GetValue(id)}.");
            return ExitCodes.Success;
        }));

        return new Command("webhook", "The service URL and the portal's webhooks.") { url, register, list, delete };
    }

    /// <summary>The public URL a webhook was registered with is kept, so that `webhook url` and `run` know it without the flag.</summary>
    private static void SavePublicUrl(string configPath, string source, string baseUrl)
    {
        var config = DeskSyncConfig.Load(configPath);
        if (config.Sources.TryGetValue(source, out var saved) && saved.PublicUrl != baseUrl)
        {
            config.Sources[source] = saved with { PublicUrl = baseUrl };
            config.Save(configPath);
        }
    }
}
