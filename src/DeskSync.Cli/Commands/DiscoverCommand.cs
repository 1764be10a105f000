using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeskSync.ZohoDesk.Snapshot;
using DeskSync.ZohoDesk.Streams;
using Spectre.Console;

namespace DeskSync.Cli.Commands;

/// <summary>`desksync discover`: the tables, their columns, types and keys, custom fields included.</summary>
internal static class DiscoverCommand
{
    public static Command Build(GlobalOptions global)
    {
        var json = new Option<bool>("--json") { Description = "Print the catalog as JSON." };
        var tables = new Option<string?>("--tables") { Description = "Comma-separated tables (default: all but the ticket's children; \"all\" for every table)." };
        var command = new Command("discover", "Show the tables DeskSync replicates: columns, types, keys and the custom fields of this portal.") { json, tables };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(Console.Error, async () =>
        {
            using var context = await SourceContext.OpenAsync(global.ConfigPath(parse), parse.GetValue(global.Source), ct);
            var selected = SyncCommand.SelectTables(parse.GetValue(tables), context.Source.Tables);
            var fields = await DeskSync.ZohoDesk.Streams.Reads.FieldDefinitionsRead.ReadAsync(context.Connection.Client, DeskStreams.FieldModules, m => OutputLog.Warn("warning", m), ct);
            var schemas = selected.Select(t => (Table: t, Schema: FullLoad.SchemaOf(t, fields))).ToList();
            if (parse.GetValue(json))
            {
                var catalog = new JsonArray(schemas.Select(s => (JsonNode)new JsonObject
                {
                    ["name"] = s.Table.Name,
                    ["zohoName"] = s.Table.DisplayName,
                    ["primaryKey"] = new JsonArray("id"),
                    ["cursorField"] = s.Schema.ModifiedTimeColumn?.Name,
                    ["readBy"] = s.Table.Read.Method,
                    ["parent"] = s.Schema.ParentColumn is { } pc ? new JsonObject { ["table"] = s.Table.Parent!.ParentName, ["column"] = pc.Name, ["countField"] = s.Table.Parent.CountField } : null,
                    ["columns"] = new JsonArray(s.Schema.Columns.Select(c => (JsonNode)new JsonObject
                    {
                        ["name"] = c.Name,
                        ["type"] = c.Type.ToString().ToLowerInvariant(),
                        ["source"] = c.SourcePath,
                        ["customField"] = c.IsCustomField,
                        ["label"] = c.Label,
                        ["zohoType"] = c.ZohoType,
                    }).ToArray()),
                }).ToArray());
                Console.Out.WriteLine(catalog.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
                return ExitCodes.Success;
            }

            if (Console.IsOutputRedirected)
            {
                // Piped or saved: whole names, tab-separated, one column a line (a table would be cut to 80 columns).
                Console.Out.WriteLine("table\tcolumn\ttype\tzoho_field\tcustom_field_label");
                foreach (var (table, schema) in schemas)
                {
                    foreach (var c in schema.Columns)
                    {
                        Console.Out.WriteLine(string.Join('\t', table.Name, c.Name, c.Type.ToString().ToLowerInvariant(), c.SourcePath, c.Label ?? ""));
                    }
                }

                return ExitCodes.Success;
            }

            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            foreach (var (table, schema) in schemas)
            {
                var parent = schema.ParentColumn is { } pc ? $"; child of {table.Parent!.ParentName} by {pc.Name}{(table.Parent.CountField is { } count ? $", listed where {count} > 0" : "")}" : "";
                console.MarkupLine($"[bold]{table.Name}[/]  (Zoho {Markup.Escape(table.DisplayName)}; key id; read by {table.Read.Method}{parent}{(schema.ModifiedTimeColumn is { } m ? $"; cursor {m.Name}" : "")})");
                var grid = new Table().AddColumns("column", "type", "Zoho field", "custom field label");
                foreach (var c in schema.Columns)
                {
                    grid.AddRow(Markup.Escape(c.Name), c.Type.ToString().ToLowerInvariant(), Markup.Escape(c.SourcePath), Markup.Escape(c.Label ?? ""));
                }

                console.Write(grid);
            }

            return ExitCodes.Success;
        }));
        return command;
    }
}
