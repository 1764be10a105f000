using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DeskSync.Cli.Config;

namespace DeskSync.Cli.Commands;

/// <summary>`desksync check`: the portal the data source reaches, its ticket count and the credits left.</summary>
internal static class CheckCommand
{
    public static Command Build(GlobalOptions global)
    {
        var command = new Command("check", "Check a connected data source: show its portal, ticket count and API credits left.");
        command.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, () =>
            RunAsync(global.ConfigPath(parse), parse.GetValue(global.Source), Console.Out, ct)));
        return command;
    }

    public static async Task<int> RunAsync(string configPath, string? sourceName, TextWriter output, CancellationToken ct)
    {
        using var context = await SourceContext.OpenAsync(configPath, sourceName, ct);
        var source = context.Source;
        var connection = context.Connection;
        var portals = await connection.Client.GetOrganizationsAsync(ct);
        var portal = portals.FirstOrDefault(p => p.GetProperty("id").ToString() == source.OrgId);
        if (portal.ValueKind == JsonValueKind.Undefined)
        {
            throw new ConfigException($"The token cannot see org {source.OrgId}. Check the org ID or connect again with `desksync auth`.");
        }

        var tickets = await connection.Client.GetTicketsCountAsync(cancellationToken: ct);
        var log = connection.Client.Log;
        await output.WriteLineAsync($"Portal:   \"{AuthCommand.Text(portal, "companyName")}\" ({AuthCommand.Text(portal, "portalName")}), org {source.OrgId}, edition {AuthCommand.Text(portal, "edition")}");
        await output.WriteLineAsync($"Tickets:  {tickets.ToString("N0", CultureInfo.InvariantCulture)}");
        await output.WriteLineAsync($"API:      {log.TotalCalls} calls, {log.TotalCredits} credits spent; {(log.RemainingCredits is { } r ? r.ToString("N0", CultureInfo.InvariantCulture) : "unknown")} credits left today");
        await output.WriteLineAsync($"Answers:  {Compression(log)}");
        return ExitCodes.Success;
    }

    /// <summary>Whether Zoho compressed its answers (DeskSync asks for gzip or Brotli; the facts page does not know whether Zoho does).</summary>
    internal static string Compression(DeskSync.ZohoDesk.Api.ApiCallLog log) => log.CompressedAnswers > 0
        ? string.Create(CultureInfo.InvariantCulture, $"{log.CompressedAnswers:N0} of {log.TotalCalls:N0} came compressed ({log.InflatedBytes / 1024.0:N0} KB once inflated)")
        : string.Create(CultureInfo.InvariantCulture, $"none of {log.TotalCalls:N0} came compressed (DeskSync asks for gzip or Brotli; small answers are often sent plain)");
}
