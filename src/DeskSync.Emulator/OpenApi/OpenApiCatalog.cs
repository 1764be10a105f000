using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DeskSync.Emulator.OpenApi;

/// <summary>
/// Zoho's own OpenAPI files (embedded, see OpenApi/SOURCE.md) as the emulator's route table:
/// which GET operations exist, which query parameters each accepts (anything else is refused
/// the way Zoho refuses it), the parameter limits (page-size caps, enums) and the OAuth scopes.
/// Built from Zoho's files, not from the client's types, so that the two can disagree.
/// </summary>
public sealed class OpenApiCatalog
{
    private static readonly Lazy<OpenApiCatalog> Embedded = new(LoadEmbedded);
    private readonly Dictionary<string, JsonNode> _documents;
    private readonly List<OpenApiOperation> _operations = [];

    private OpenApiCatalog(Dictionary<string, JsonNode> documents)
    {
        _documents = documents;
        foreach (var (file, doc) in documents)
        {
            if (doc["paths"] is not JsonObject paths)
            {
                continue;
            }

            foreach (var (path, item) in paths)
            {
                foreach (var (method, opNode) in item!.AsObject())
                {
                    if (opNode is JsonObject op && op["operationId"] is not null)
                    {
                        _operations.Add(BuildOperation(file, path, method.ToUpperInvariant(), op));
                    }
                }
            }
        }

        // Literal segments win over templates: /tickets/search before /tickets/{ticketId}. A stable
        // sort, so that of two files declaring one path (Field.json, FieldOld.json) the first loaded wins.
        var ordered = _operations.OrderByDescending(o => o.LiteralSegments).ToList();
        _operations.Clear();
        _operations.AddRange(ordered);
    }

    public static OpenApiCatalog Instance => Embedded.Value;

    public IReadOnlyDictionary<string, JsonNode> Documents => _documents;

    public IReadOnlyList<OpenApiOperation> Operations => _operations;

    public OpenApiOperation? Find(string method, string path, out Dictionary<string, string> pathValues)
    {
        foreach (var op in _operations)
        {
            if (op.Method != method)
            {
                continue;
            }

            var m = op.PathRegex.Match(path);
            if (m.Success)
            {
                pathValues = op.PathParameterNames.ToDictionary(n => n, n => m.Groups[n].Value);
                return op;
            }
        }

        pathValues = [];
        return null;
    }

    public OpenApiOperation Get(string operationId) =>
        _operations.First(o => o.OperationId == operationId);

    /// <summary>Follows a $ref (local "#/…" or "./Other.json#/…") to the node it names.</summary>
    public (JsonObject Node, string File) Resolve(JsonObject node, string file)
    {
        var guard = 0;
        while (node["$ref"] is JsonValue refValue && guard++ < 64)
        {
            var reference = refValue.GetValue<string>();
            var hash = reference.IndexOf('#', StringComparison.Ordinal);
            var target = hash > 0 ? Path.GetFileName(reference[..hash]) : file;
            if (!_documents.TryGetValue(target, out var document))
            {
                // A file the copied reference set lacks (SupportPlan.json, …): no constraint is known.
                return ([], target);
            }

            JsonNode current = document;
            foreach (var part in reference[(hash + 2)..].Split('/'))
            {
                current = current[part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)]!;
            }

            node = current.AsObject();
            file = target;
        }

        return (node, file);
    }

    private OpenApiOperation BuildOperation(string file, string path, string method, JsonObject op)
    {
        var query = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var pathParams = new List<string>();
        foreach (var p in op["parameters"]?.AsArray() ?? [])
        {
            var (param, _) = Resolve(p!.AsObject(), file);
            var name = param["name"]!.GetValue<string>();
            var location = param["in"]?.GetValue<string>();
            if (location == "query")
            {
                query[name] = param["schema"]?.AsObject() ?? [];
            }
            else if (location == "path")
            {
                pathParams.Add(name);
            }
        }

        var scopes = new List<string>();
        foreach (var requirement in op["security"]?.AsArray() ?? [])
        {
            foreach (var (_, list) in requirement!.AsObject())
            {
                scopes.AddRange(list!.AsArray().Select(s => s!.GetValue<string>()));
            }
        }

        var pattern = "^" + Regex.Replace(Regex.Escape(path).Replace(@"\{", "{", StringComparison.Ordinal), "{([A-Za-z_][A-Za-z0-9_]*)}", "(?<$1>[^/]+)") + "/?$";
        var literals = path.Split('/').Count(s => s.Length > 0 && !s.StartsWith('{'));
        return new OpenApiOperation(
            file, method, path, op["operationId"]!.GetValue<string>(), op,
            new Regex(pattern, RegexOptions.CultureInvariant), pathParams, query, scopes, literals);
    }

    private static OpenApiCatalog LoadEmbedded()
    {
        var assembly = typeof(OpenApiCatalog).Assembly;
        var docs = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("OpenApi/", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            docs[name["OpenApi/".Length..]] = JsonNode.Parse(stream)!;
        }

        return new OpenApiCatalog(docs);
    }
}

public sealed record OpenApiOperation(
    string File,
    string Method,
    string PathTemplate,
    string OperationId,
    JsonObject Definition,
    Regex PathRegex,
    IReadOnlyList<string> PathParameterNames,
    IReadOnlyDictionary<string, JsonObject> QueryParameters,
    IReadOnlyList<string> Scopes,
    int LiteralSegments)
{
    /// <summary>The schema of the JSON answer for a status, or null.</summary>
    public JsonObject? ResponseSchema(OpenApiCatalog catalog, string status, out string file)
    {
        file = File;
        if (Definition["responses"]?[status] is not JsonObject response)
        {
            return null;
        }

        (response, file) = catalog.Resolve(response, File);
        return response["content"]?["application/json"]?["schema"] as JsonObject;
    }
}
