using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeskSync.ZohoDesk.Api;
using DeskSync.ZohoDesk.Catalog;

namespace DeskSync.ZohoDesk.Snapshot;

/// <summary>
/// Reads the tables that have no search: plain lists (departments, agents), list-then-detail
/// (contracts, whose list answer is thin), teams (one answer) and the field definitions.
/// These tables are small; a resumed load reads an unfinished one again from its start.
/// </summary>
public sealed class ListTableReader(DeskClient client, DeskTable table, IReadOnlyDictionary<string, IReadOnlyList<JsonElement>> fieldDefinitions)
{
    private const string Done = """{"done":true}""";

    public async IAsyncEnumerable<SnapshotBatch> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        switch (table.Strategy)
        {
            case ReadStrategy.List:
            {
                var batch = new List<JsonElement>(table.PageSize);
                await foreach (var record in client.ListAsync(table.Path, table.PageSize, label: table.Name, cancellationToken: cancellationToken))
                {
                    batch.Add(record);
                    if (batch.Count == table.PageSize)
                    {
                        yield return new SnapshotBatch(batch, """{"done":false}""", Complete: false);
                        batch = new List<JsonElement>(table.PageSize);
                    }
                }

                yield return new SnapshotBatch(batch, Done, Complete: true);
                break;
            }

            case ReadStrategy.ListThenDetail:
            {
                var ids = new List<string>();
                await foreach (var record in client.ListAsync(table.Path, table.PageSize, label: table.Name, cancellationToken: cancellationToken))
                {
                    ids.Add(record.GetProperty("id").ToString());
                }

                foreach (var chunk in ids.Chunk(table.PageSize))
                {
                    var details = await Task.WhenAll(chunk.Select(async id =>
                    {
                        using var doc = await client.GetAsync($"{table.Path}/{Uri.EscapeDataString(id)}", label: table.Name, cancellationToken: cancellationToken);
                        return doc?.RootElement.Clone();
                    }));
                    yield return new SnapshotBatch([.. details.OfType<JsonElement>()], """{"done":false}""", Complete: false);
                }

                yield return new SnapshotBatch([], Done, Complete: true);
                break;
            }

            case ReadStrategy.Teams:
            {
                using var doc = await client.GetAsync(table.Path, label: table.Name, cancellationToken: cancellationToken);
                yield return new SnapshotBatch(DeskClient.Items(doc, "teams"), Done, Complete: true);
                break;
            }

            case ReadStrategy.FieldDefinitions:
            {
                var rows = new List<JsonElement>();
                foreach (var (module, fields) in fieldDefinitions)
                {
                    foreach (var field in fields)
                    {
                        // The module is not in Zoho's answer; add it so that rows say which module they describe.
                        var node = JsonNode.Parse(field.GetRawText())!.AsObject();
                        node["module"] = module;
                        rows.Add(JsonSerializer.SerializeToElement(node));
                    }
                }

                yield return new SnapshotBatch(rows, Done, Complete: true);
                break;
            }

            default:
                throw new InvalidOperationException($"{table.Name} is not read by list.");
        }
    }

    /// <summary>
    /// Every module's field definitions, read together (one call each, sharing the client's
    /// cap). A module the portal's edition forbids gets none, with a warning; warnings come in
    /// the modules' order.
    /// </summary>
    public static async Task<Dictionary<string, IReadOnlyList<JsonElement>>> ReadFieldDefinitionsAsync(DeskClient client, IEnumerable<string> modules, Action<string>? warn, CancellationToken cancellationToken)
    {
        var reads = modules.Select(async module =>
        {
            try
            {
                using var doc = await client.GetAsync("organizationFields", [new("module", module)], label: DeskTables.OrganizationFields.Name, cancellationToken: cancellationToken);
                return (Module: module, Fields: DeskClient.Items(doc), Warning: (string?)null);
            }
            catch (ZohoApiException ex) when (ex.Kind == ZohoFailureKind.Forbidden)
            {
                return (module, [], $"Field definitions of {module} are not available to this portal ({ex.ErrorCode}); its custom fields get no columns.");
            }
        }).ToList();
        await Together.WhenAllAsync(reads);

        var result = new Dictionary<string, IReadOnlyList<JsonElement>>(StringComparer.Ordinal);
        foreach (var (module, fields, warning) in reads.Select(r => r.Result))
        {
            if (warning is not null)
            {
                warn?.Invoke(warning);
            }

            result[module] = fields;
        }

        return result;
    }
}
