using System.CommandLine;
using System.Net;
using System.Text.Json.Nodes;
using DeskSync.Cli.Config;
using DeskSync.Emulator;

namespace DeskSync.Cli.Commands;

/// <summary>`desksync emulator`: a fake Zoho Desk on a local port, for trying DeskSync offline.</summary>
internal static class EmulatorCommand
{
    public static Command Build()
    {
        var port = new Option<int>("--port") { Description = "Port to listen on (0 picks a free one).", DefaultValueFactory = _ => 8085 };
        var bind = new Option<string>("--bind") { Description = "Address to listen on.", DefaultValueFactory = _ => "127.0.0.1" };
        var json = new Option<bool>("--json") { Description = "Print the connection details as one JSON object on the first line." };
        var seed = new Option<int>("--seed") { Description = "Seed of the sample data.", DefaultValueFactory = _ => 42 };
        var tickets = new Option<int>("--tickets") { Description = "Number of tickets in the sample portal.", DefaultValueFactory = _ => 250 };
        var edition = new Option<string>("--edition") { Description = "FREE, EXPRESS, STANDARD, PROFESSIONAL or ENTERPRISE.", DefaultValueFactory = _ => "ENTERPRISE" };
        var compact = new Option<bool>("--compact") { Description = "Keep records as compact JSON (about 5 KB a ticket instead of 35 KB): for portals of a million tickets." };
        var latency = new Option<int>("--latency-ms") { Description = "How long every Desk API call takes before its answer starts, the emulator's own work included." };
        var gzip = new Option<bool>("--gzip") { Description = "Compress answers (gzip or Brotli) for clients that ask; whether Zoho does is unknown, so off by default." };
        var command = new Command("emulator", "Run a Zoho Desk emulator (accounts + Desk API) on this machine.")
        {
            port, bind, json, seed, tickets, edition, latency, compact, gzip,
        };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, async () =>
        {
            if (!IPAddress.TryParse(parse.GetValue(bind), out var address))
            {
                throw new ConfigException($"--bind '{parse.GetValue(bind)}' is not an IP address: give one such as 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).");
            }

            if (parse.GetValue(port) is < 0 or > 65535)
            {
                throw new ConfigException($"--port {parse.GetValue(port)} is not a port: give 1–65535, or 0 for any free one.");
            }

            if (parse.GetValue(tickets) < 0 || parse.GetValue(latency) < 0)
            {
                throw new ConfigException("--tickets and --latency-ms cannot be negative.");
            }

            if (parse.GetValue(edition)!.ToUpperInvariant() is not ("FREE" or "EXPRESS" or "STANDARD" or "PROFESSIONAL" or "ENTERPRISE"))
            {
                throw new ConfigException($"--edition '{parse.GetValue(edition)}' is not an edition: use FREE, EXPRESS, STANDARD, PROFESSIONAL or ENTERPRISE.");
            }

            var options = new EmulatorOptions
            {
                Seed = parse.GetValue(seed),
                Counts = new TableCounts { Tickets = parse.GetValue(tickets) },
                CompactStore = parse.GetValue(compact),
                CompressAnswers = parse.GetValue(gzip),
                Edition = parse.GetValue(edition)!,
            };
            ZohoDeskEmulator emulator;
            try
            {
                emulator = await ZohoDeskEmulator.StartAsync(options, parse.GetValue(port), address, ct);
            }
            catch (IOException ex) when (ex.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse } || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new ConfigException($"Port {parse.GetValue(port)} on {address} is in use by another program: pick another with --port, or --port 0 for any free one.");
            }

            await using var _ = emulator;
            emulator.Faults.Latency = TimeSpan.FromMilliseconds(parse.GetValue(latency));
            var code = emulator.MintGrantCode();
            var url = emulator.BaseUrl.ToString().TrimEnd('/');
            if (parse.GetValue(json))
            {
                var details = new JsonObject
                {
                    ["url"] = url,
                    ["accountsUrl"] = url,
                    ["apiUrl"] = url,
                    ["orgId"] = emulator.Portal.OrgId,
                    ["clientId"] = emulator.Client.ClientId,
                    ["clientSecret"] = emulator.Client.ClientSecret,
                    ["grantCode"] = code.Code,
                    ["grantCodeExpiresAt"] = code.ExpiresAt.ToString("O"),
                    ["tickets"] = emulator.Portal.Count("tickets"),
                };
                Console.WriteLine(details.ToJsonString());
            }
            else
            {
                Console.WriteLine($"Zoho Desk emulator listening on {url}");
                Console.WriteLine($"  Org ID (Setup → Developer Space → API):     {emulator.Portal.OrgId}");
                Console.WriteLine($"  Client ID (API console → Self Client):      {emulator.Client.ClientId}");
                Console.WriteLine($"  Client secret:                              {emulator.Client.ClientSecret}");
                Console.WriteLine($"  Grant code (valid until {code.ExpiresAt:HH:mm:ss} UTC, once): {code.Code}");
                Console.WriteLine($"  A new grant code: curl -X POST {url}/_emulator/grant-codes");
                Console.WriteLine();
                Console.WriteLine("Connect to it:");
                Console.WriteLine($"  desksync auth --accounts-url {url} --api-url {url} --org-id {emulator.Portal.OrgId} \\");
                Console.WriteLine($"      --client-id {emulator.Client.ClientId} --client-secret <secret above> --grant-code <code above>");
                Console.WriteLine("  desksync check");
                Console.WriteLine("Stop with Ctrl+C.");
            }

            await Console.Out.FlushAsync(ct);
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: stop cleanly.
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
