using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeskSync.Core;
using DeskSync.ZohoDesk.Api;

namespace DeskSync.ZohoDesk.Streams.Reads;

/// <summary>
/// The field definitions of every module DeskSync reads (GET /organizationFields?module=…, one
/// unpaged call each). They are read once per run, before any table needs its columns, so this
/// table's rows come from that read rather than from calls of its own.
/// </summary>
public sealed class FieldDefinitionsRead : StreamRead
{
    public override string Method => "field definitions of every module";

    public override bool PollsEverything => true;

    public override bool Reconciles => false;

    public override async IAsyncEnumerable<SnapshotBatch> LoadAsync(StreamReading reading, string? state, [EnumeratorCancellation] CancellationToken ct)
    {
        var rows = new List<JsonElement>();
        foreach (var (module, fields) in await reading.FieldDefinitions)
        {
            foreach (var field in fields)
            {
                // The module is not in Zoho's answer; add it so that rows say which module they describe.
                var node = JsonNode.Parse(field.GetRawText())!.AsObject();
                node["module"] = module;
                rows.Add(JsonSerializer.SerializeToElement(node));
            }
        }

        yield return new SnapshotBatch(rows, ListRead.Done, Complete: true);
    }

    public override IAsyncEnumerable<IReadOnlyList<ChangeEvent>> PollAsync(StreamReading reading, DateTimeOffset since, DateTimeOffset until, CancellationToken ct) =>
        ListRead.Whole(this, reading, ct);

    /// <summary>
    /// Every module's field definitions, read together (one call each, sharing the client's
    /// cap). A module the portal's edition forbids gets none, with a warning; warnings come in
    /// the modules' order.
    /// </summary>
    public static async Task<Dictionary<string, IReadOnlyList<JsonElement>>> ReadAsync(DeskClient client, IEnumerable<string> modules, Action<string>? warn, CancellationToken cancellationToken)
    {
        var reads = modules.Select(async module =>
        {
            try
            {
                using var doc = await client.GetAsync("organizationFields", [new("module", module)], label: DeskStreams.OrganizationFields.Name, cancellationToken: cancellationToken);
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

    /// <summary>The modules whose definitions a run reads for these tables: each table's own, and every module's when the definitions' table is among them.</summary>
    public static List<string> ModulesFor(IReadOnlyList<DeskStream> tables) =>
        [.. tables.Select(t => t.FieldsModule).OfType<string>()
            .Concat(tables.Contains(DeskStreams.OrganizationFields) ? DeskStreams.FieldModules : []).Distinct()];
}
