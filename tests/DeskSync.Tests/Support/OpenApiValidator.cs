using System.Text.Json.Nodes;
using DeskSync.Emulator.OpenApi;
using Json.Schema;

namespace DeskSync.Tests.Support;

/// <summary>
/// Validates JSON against a response schema of Zoho's OpenAPI files with a stock JSON Schema
/// (2020-12) validator, after the four documented preprocessing steps (facts page §7):
/// 1. Java's \p{InBasicLatin} is .NET's \p{IsBasicLatin}, and Java's \_ is .NET's _;
/// 2. x-… extension keywords are dropped;
/// 3. allOf is flattened into one object (properties and required merged, a property declared
///    twice merged the same way), closed with additionalProperties:false when any branch was —
///    JSON Schema would otherwise let each closed branch reject its siblings' fields;
/// 4. every $ref is bundled into #/$defs under a name without '/', so no pointer contains one.
/// </summary>
internal sealed class OpenApiValidator(OpenApiCatalog catalog)
{
    private static readonly HashSet<string> Structural = new(StringComparer.Ordinal)
    {
        "properties", "required", "allOf", "anyOf", "oneOf", "items", "additionalProperties", "$ref", "patternProperties",
    };

    public IReadOnlyList<string> Validate(JsonNode? instance, JsonObject schema, string file)
    {
        var defs = new JsonObject();
        var root = Rewrite(schema, file, defs, 0).AsObject();
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        root["$defs"] = defs;
        var compiled = JsonSchema.FromText(root.ToJsonString());
        var results = compiled.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid)
        {
            return [];
        }

        return results.Details
            .Where(d => d.HasErrors)
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Key}: {e.Value}"))
            .Distinct()
            .Take(40)
            .ToList();
    }

    private JsonNode Rewrite(JsonNode node, string file, JsonObject defs, int depth)
    {
        if (node is JsonArray array)
        {
            return new JsonArray(array.Select(n => n is null ? null : Rewrite(n, file, defs, depth + 1)).ToArray());
        }

        if (node is not JsonObject obj)
        {
            return node.DeepClone();
        }

        if (obj["$ref"] is JsonValue r)
        {
            var reference = r.GetValue<string>();
            var (target, targetFile) = catalog.Resolve(new JsonObject { ["$ref"] = reference }, file);
            var name = (targetFile + "_" + reference[(reference.IndexOf('#', StringComparison.Ordinal) + 1)..]).Replace('/', '_').Replace('.', '_').Replace('~', '_');
            if (!defs.ContainsKey(name))
            {
                defs[name] = true; // placeholder against recursion
                defs[name] = Rewrite(target, targetFile, defs, depth + 1);
            }

            return new JsonObject { ["$ref"] = "#/$defs/" + name };
        }

        if (obj.ContainsKey("allOf"))
        {
            return Flatten([(obj, file)], defs, depth);
        }

        var result = new JsonObject();
        foreach (var (key, value) in obj)
        {
            if (key.StartsWith("x-", StringComparison.Ordinal))
            {
                continue;
            }

            result[key] = key switch
            {
                "pattern" => DotNetPattern(value!.GetValue<string>()),
                "properties" or "$defs" => new JsonObject(value!.AsObject().Select(p => KeyValuePair.Create(p.Key, (JsonNode?)Rewrite(p.Value!, file, defs, depth + 1)))),
                "patternProperties" => new JsonObject(value!.AsObject().Select(p => KeyValuePair.Create(DotNetPattern(p.Key), (JsonNode?)Rewrite(p.Value!, file, defs, depth + 1)))),
                "enum" or "const" or "required" or "examples" or "example" or "default" or "type" => value?.DeepClone(),
                _ => value is null ? null : Rewrite(value, file, defs, depth + 1),
            };
        }

        return result;
    }

    /// <summary>Java regex to .NET: Unicode blocks are \p{IsX}, and Java's harmless escape of a
    /// word character such as \_ is an error in .NET.</summary>
    internal static string DotNetPattern(string java) => java
        .Replace(@"\p{InBasicLatin}", @"\p{IsBasicLatin}", StringComparison.Ordinal)
        .Replace(@"\P{InBasicLatin}", @"\P{IsBasicLatin}", StringComparison.Ordinal)
        .Replace(@"\_", "_", StringComparison.Ordinal);

    /// <summary>One object schema from several that must all hold (allOf), refs followed.</summary>
    private JsonObject Flatten(List<(JsonObject Schema, string File)> parts, JsonObject defs, int depth)
    {
        var properties = new Dictionary<string, List<(JsonObject, string)>>(StringComparer.Ordinal);
        var items = new List<(JsonObject, string)>();
        var required = new SortedSet<string>(StringComparer.Ordinal);
        var choices = new List<JsonObject>();
        var patternProperties = new JsonObject();
        var result = new JsonObject();
        var closed = false;

        void Collect(JsonObject schema, string file, int level)
        {
            (schema, file) = catalog.Resolve(schema, file);
            closed |= schema["additionalProperties"] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.False;
            foreach (var (name, prop) in schema["properties"]?.AsObject() ?? [])
            {
                if (!properties.TryGetValue(name, out var list))
                {
                    properties[name] = list = [];
                }

                list.Add((prop!.AsObject(), file));
            }

            foreach (var req in schema["required"]?.AsArray() ?? [])
            {
                required.Add(req!.GetValue<string>());
            }

            if (schema["items"] is JsonObject it)
            {
                items.Add((it, file));
            }

            foreach (var (pattern, sub) in schema["patternProperties"]?.AsObject() ?? [])
            {
                patternProperties[DotNetPattern(pattern)] = Rewrite(sub!, file, defs, depth + 1);
            }

            foreach (var kind in new[] { "anyOf", "oneOf" })
            {
                if (schema[kind] is JsonArray options)
                {
                    choices.Add(new JsonObject { [kind] = Rewrite(options, file, defs, depth + 1) });
                }
            }

            foreach (var (key, value) in schema)
            {
                if (!Structural.Contains(key) && !key.StartsWith("x-", StringComparison.Ordinal) && !result.ContainsKey(key))
                {
                    result[key] = value is null ? null : key == "pattern" ? DotNetPattern(value.GetValue<string>()) : Rewrite(value, file, defs, depth + 1);
                }
            }

            if (level < 24)
            {
                foreach (var part in schema["allOf"]?.AsArray() ?? [])
                {
                    Collect(part!.AsObject(), file, level + 1);
                }
            }
        }

        foreach (var (schema, file) in parts)
        {
            Collect(schema, file, 0);
        }

        if (properties.Count > 0)
        {
            result["properties"] = new JsonObject(properties.Select(p => KeyValuePair.Create(p.Key,
                (JsonNode?)(p.Value.Count == 1 ? Rewrite(p.Value[0].Item1, p.Value[0].Item2, defs, depth + 1) : Flatten(p.Value, defs, depth + 1)))));
        }

        if (patternProperties.Count > 0)
        {
            result["patternProperties"] = patternProperties;
        }

        if (required.Count > 0)
        {
            result["required"] = new JsonArray(required.Select(r => (JsonNode)r).ToArray());
        }

        if (items.Count > 0)
        {
            result["items"] = items.Count == 1 ? Rewrite(items[0].Item1, items[0].Item2, defs, depth + 1) : Flatten(items, defs, depth + 1);
        }

        if (choices.Count == 1)
        {
            foreach (var (k, v) in choices[0])
            {
                result[k] = v?.DeepClone();
            }
        }
        else if (choices.Count > 1)
        {
            result["allOf"] = new JsonArray(choices.Select(c => (JsonNode)c).ToArray());
        }

        if (closed)
        {
            // With choices beside the merged properties, only unevaluatedProperties sees what the choices evaluated.
            result[choices.Count > 0 ? "unevaluatedProperties" : "additionalProperties"] = false;
        }

        return result;
    }
}
