using System.CommandLine;
using System.Text.Json;
using DeskSync.Cli.Config;
using DeskSync.ZohoDesk.Auth;
using DeskSync.ZohoDesk.Regions;
using Spectre.Console;

namespace DeskSync.Cli.Commands;

/// <summary>
/// `desksync init`: the data source's connection form, asked one field at a time with where to
/// find each in Zoho; the grant code is exchanged at once (it lives minutes), the connection is
/// checked, the portal chosen, and the settings written. Every answer can be given as a flag
/// (or the secret in DESKSYNC_CLIENT_SECRET) to run it from a script.
/// </summary>
internal static class InitCommand
{
    public static Command Build(GlobalOptions global)
    {
        var dc = new Option<string?>("--dc") { Description = "Data centre: " + string.Join(", ", ZohoDataCenter.All.Select(d => d.Code)) };
        var orgId = new Option<string?>("--org-id") { Description = "The portal's org ID; when left out, chosen from the portals the token can see." };
        var clientId = new Option<string?>("--client-id") { Description = "The Self Client's client ID." };
        var grantCode = new Option<string?>("--grant-code") { Description = "A fresh grant code." };
        var accountsUrl = new Option<string?>("--accounts-url") { Description = "Override the accounts server (emulator, proxy)." };
        var apiUrl = new Option<string?>("--api-url") { Description = "Override the Desk host (emulator, proxy)." };
        var target = new Option<string?>("--target") { Description = "Where the data goes (default sqlite:desksync.db)." };
        var nonInteractive = new Option<bool>("--non-interactive") { Description = "Never ask; fail on anything missing." };
        var command = new Command("init", "Set up a data source step by step: data centre, org ID, client ID and secret, grant code; then check it and write the settings.")
        {
            dc, orgId, clientId, grantCode, accountsUrl, apiUrl, target, nonInteractive,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, async () =>
        {
            var ask = new Prompter(!parse.GetValue(nonInteractive));
            var configPath = global.ConfigPath(parse);
            var sourceName = parse.GetValue(global.Source) ?? "default";
            var config = DeskSyncConfig.Load(configPath);
            Console.Error.WriteLine("DeskSync connects to Zoho Desk with a Self Client (https://api-console.zoho.com → Add Client → Self Client).");

            var dcCode = parse.GetValue(dc) ?? DeskSyncConfig.Env("DESKSYNC_DC")
                ?? ask.Choose("Data centre (the domain you log in to Zoho at)", [.. ZohoDataCenter.All.Select(d => $"{d.Code}  {d.Name} ({d.AccountsHost})")])?.Split(' ')[0]
                ?? "US";
            _ = ZohoDataCenter.Find(dcCode) ?? throw new ConfigException($"Unknown data centre '{dcCode}'.");
            var client = parse.GetValue(clientId) ?? DeskSyncConfig.Env("DESKSYNC_CLIENT_ID")
                ?? ask.Text("Client ID", "API console → Self Client → Client Secret tab → Client ID")
                ?? throw new ConfigException("--client-id is required.");
            var secret = DeskSyncConfig.Env("DESKSYNC_CLIENT_SECRET")
                ?? ask.Secret("Client secret", "API console → Self Client → Client Secret tab → Client Secret")
                ?? throw new ConfigException("The client secret is required: set DESKSYNC_CLIENT_SECRET.");
            var org = parse.GetValue(orgId) ?? DeskSyncConfig.Env("DESKSYNC_ORG_ID")
                ?? ask.Text("Org ID (Enter to choose from your portals)", "Zoho Desk → Setup → Developer Space → API → Org ID", optional: true);
            var code = parse.GetValue(grantCode) ?? DeskSyncConfig.Env("DESKSYNC_GRANT_CODE")
                ?? ask.Secret("Grant code", "API console → Self Client → Generate Code; scopes: " + string.Join(",", Scopes.Recommended) + "; time 10 minutes; your Desk portal. Paste it now: it expires in minutes and works once.")
                ?? throw new ConfigException("--grant-code is required.");

            var existing = config.Sources.GetValueOrDefault(sourceName) ?? new DataSourceConfig();
            var source = existing with
            {
                DataCenter = dcCode.ToUpperInvariant(),
                OrgId = string.IsNullOrWhiteSpace(org) ? null : org.Trim(),
                ClientId = client.Trim(),
                AccountsUrl = parse.GetValue(accountsUrl) ?? DeskSyncConfig.Env("DESKSYNC_ACCOUNTS_URL") ?? existing.AccountsUrl,
                ApiUrl = parse.GetValue(apiUrl) ?? DeskSyncConfig.Env("DESKSYNC_API_URL") ?? existing.ApiUrl,
                Target = parse.GetValue(target) ?? existing.Target,
            };
            // A step that fails is asked again, alone: a spent or mistyped grant code, or an org ID
            // the token cannot see (the exchanged tokens are kept, so no new code is needed then).
            int result;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    result = await AuthCommand.ConnectAsync(configPath, sourceName, config, source, secret.Trim(), code?.Trim(), Console.Out, ct, portals => PickPortal(ask, portals));
                    break;
                }
                catch (ZohoAuthException ex) when (ex.Failure == AuthFailure.GrantCodeInvalid && ask.Enabled && attempt < 3)
                {
                    Console.Error.WriteLine("error: " + ex.Message);
                    code = ask.Secret("Grant code", "Generate a new one: API console → Self Client → Generate Code (same scopes)")
                        ?? throw new ConfigException("--grant-code is required.");
                }
                catch (WrongOrgException ex) when (ask.Enabled && attempt < 3)
                {
                    Console.Error.WriteLine("error: " + ex.Message);
                    var again = ask.Text("Org ID (Enter to choose from your portals)", "one of the org IDs above", optional: true);
                    source = source with { OrgId = string.IsNullOrWhiteSpace(again) ? null : again.Trim() };
                    code = null; // the connection made with the first code is used again
                }
            }
            if (result == ExitCodes.Success)
            {
                Console.Out.WriteLine("Next: `desksync check`, `desksync discover`, then `desksync sync` (a full load) or `desksync run` (real time).");
            }

            return result;
        }));
        return command;
    }

    private static string? PickPortal(Prompter ask, IReadOnlyList<JsonElement> portals)
    {
        string Line(JsonElement p) => $"{p.GetProperty("id")}  {AuthCommand.Text(p, "companyName")} ({AuthCommand.Text(p, "portalName")}, {AuthCommand.Text(p, "edition")})";
        if (portals.Count == 0)
        {
            throw new ConfigException("The token sees no Desk portal: make the grant code for your Desk portal (the portal list under Generate Code).");
        }

        if (portals.Count == 1)
        {
            Console.Error.WriteLine("Portal: " + Line(portals[0]));
            return portals[0].GetProperty("id").ToString();
        }

        var choice = ask.Choose("Portal", [.. portals.Select(Line)])
            ?? throw new ConfigException($"The token sees {portals.Count} portals: give --org-id ({string.Join(", ", portals.Select(p => p.GetProperty("id").ToString()))}).");
        return choice.Split(' ')[0];
    }

    /// <summary>Questions on the terminal (Spectre prompts), or lines from piped input; never when non-interactive.</summary>
    private sealed class Prompter(bool enabled)
    {
        public bool Enabled => enabled;

        private bool Terminal => !Console.IsInputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

        public string? Text(string question, string help, bool optional = false)
        {
            if (!enabled)
            {
                return null;
            }

            Console.Error.WriteLine($"  ({help})");
            if (Terminal)
            {
                var prompt = new TextPrompt<string>(Markup.Escape(question) + ":") { AllowEmpty = optional };
                var answer = AnsiConsole.Prompt(prompt);
                return string.IsNullOrWhiteSpace(answer) ? null : answer;
            }

            Console.Error.Write(question + ": ");
            var line = Console.In.ReadLine();
            return string.IsNullOrWhiteSpace(line) ? null : line;
        }

        public string? Secret(string question, string help)
        {
            if (!enabled)
            {
                return null;
            }

            Console.Error.WriteLine($"  ({help})");
            if (Terminal)
            {
                return AnsiConsole.Prompt(new TextPrompt<string>(Markup.Escape(question) + ":").Secret());
            }

            Console.Error.Write(question + ": ");
            var line = Console.In.ReadLine();
            return string.IsNullOrWhiteSpace(line) ? null : line;
        }

        public string? Choose(string question, IReadOnlyList<string> options)
        {
            if (!enabled)
            {
                return null;
            }

            if (Terminal)
            {
                return AnsiConsole.Prompt(new SelectionPrompt<string>().Title(Markup.Escape(question)).AddChoices(options.Select(Markup.Escape)));
            }

            Console.Error.WriteLine(question + ":");
            for (var i = 0; i < options.Count; i++)
            {
                Console.Error.WriteLine($"  {i + 1}. {options[i]}");
            }

            Console.Error.Write("Number (Enter for 1): ");
            var line = Console.In.ReadLine();
            return int.TryParse(line, out var n) && n >= 1 && n <= options.Count ? options[n - 1] : options[0];
        }
    }
}
