using System.Text.Json.Nodes;

namespace DeskSync.Emulator.OpenApi;

/// <summary>
/// Cuts a full stored record down to exactly what an operation's OpenAPI response schema
/// declares: properties the schema does not name are left out (Zoho's list items are thin,
/// e.g. no cf or modifiedTime on GET /tickets), required properties the record lacks are
/// answered as null, and nested objects are shaped by their own sub-schemas. A property
/// declared by several allOf branches is shaped by all of them together; an object whose schema
/// caps its property count keeps its required properties first.
/// </summary>
public sealed class SchemaShaper(OpenApiCatalog catalog, int spreadOneIn = 0)
{
    // Merging a schema walks allOf chains across files; shapes without oneOf/anyOf do not depend
    // on the value, so they are merged once.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<SchemaKey, MergedSchema> _cache = new();

    public JsonNode? Shape(JsonNode? value, JsonObject schema, string file) => Shape(value, [(schema, file)], 0);

    private JsonNode? Shape(JsonNode? value, IReadOnlyList<(JsonObject Schema, string File)> schemas, int depth)
    {
        if (value is null || depth > 32)
        {
            return value?.DeepClone();
        }

        var merged = Merge(schemas, value);
        if (value is JsonObject obj && merged.Properties.Count > 0)
        {
            var result = new JsonObject();
            foreach (var (name, propSchemas) in merged.Properties)
            {
                if (obj.TryGetPropertyValue(name, out var child))
                {
                    result[name] = Shape(child, propSchemas, depth + 1);
                }
                else if (merged.Required.Contains(name))
                {
                    result[name] = null;
                }
            }

            // A schema that caps its property count (a call's nested ticket) keeps what it requires first.
            foreach (var name in result.Select(p => p.Key).Where(n => !merged.Required.Contains(n)).ToList())
            {
                if (result.Count <= merged.MaxProperties)
                {
                    break;
                }

                result.Remove(name);
            }

            if (AnswerSpread.Applies(obj, spreadOneIn))
            {
                AnswerSpread.Apply(result, merged.Required);
            }

            return result;
        }

        if (value is JsonArray array && merged.Items.Count > 0)
        {
            return new JsonArray(array.Select(e => Shape(e, merged.Items, depth + 1)).ToArray());
        }

        return value.DeepClone();
    }

    private MergedSchema Merge(IReadOnlyList<(JsonObject Schema, string File)> schemas, JsonNode? value)
    {
        var key = new SchemaKey(schemas);
        if (_cache.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var merged = new MergedSchema();
        foreach (var (schema, file) in schemas)
        {
            Collect(schema, file, value, merged, 0);
        }

        if (!merged.DependsOnValue)
        {
            _cache.TryAdd(key, merged);
        }

        return merged;
    }

    private void Collect(JsonObject schema, string file, JsonNode? value, MergedSchema into, int depth)
    {
        if (depth > 16)
        {
            return;
        }

        (schema, file) = catalog.Resolve(schema, file);
        if (schema["properties"] is JsonObject props)
        {
            foreach (var (name, prop) in props)
            {
                if (!into.Properties.TryGetValue(name, out var list))
                {
                    into.Properties[name] = list = [];
                }

                list.Add((prop!.AsObject(), file));
            }
        }

        foreach (var r in schema["required"]?.AsArray() ?? [])
        {
            into.Required.Add(r!.GetValue<string>());
        }

        if (schema["maxProperties"]?.GetValue<int>() is { } max)
        {
            into.MaxProperties = Math.Min(into.MaxProperties, max);
        }

        if (schema["items"] is JsonObject items)
        {
            into.Items.Add((items, file));
        }

        foreach (var part in schema["allOf"]?.AsArray() ?? [])
        {
            Collect(part!.AsObject(), file, value, into, depth + 1);
        }

        var choices = (schema["oneOf"] ?? schema["anyOf"])?.AsArray();
        if (choices is { Count: > 0 })
        {
            into.DependsOnValue = true;
            // The most specific branch that fits: a picklist field fits the text branch too,
            // but only the picklist branch declares allowedValues.
            var chosen = choices.Select(c => c!.AsObject())
                .Select(c => (Branch: c, Score: Fits(c, file, value)))
                .Where(c => c.Score >= 0)
                .OrderByDescending(c => c.Score)
                .Select(c => c.Branch)
                .FirstOrDefault() ?? choices[0]!.AsObject();
            Collect(chosen, file, value, into, depth + 1);
        }
    }

    /// <summary>-1 when the branch does not fit the value, else how many required properties it names.</summary>
    private int Fits(JsonObject branch, string file, JsonNode? value)
    {
        var probe = new MergedSchema();
        Collect(branch, file, null, probe, 8);
        if (value is JsonObject obj)
        {
            return probe.Properties.Count > 0 && probe.Required.All(obj.ContainsKey) ? probe.Required.Count : -1;
        }

        return value is JsonArray == probe.Items.Count > 0 ? 0 : -1;
    }

    private sealed class MergedSchema
    {
        public Dictionary<string, List<(JsonObject Schema, string File)>> Properties { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Required { get; } = new(StringComparer.Ordinal);

        public List<(JsonObject Schema, string File)> Items { get; } = [];

        public bool DependsOnValue { get; set; }

        public int MaxProperties { get; set; } = int.MaxValue;
    }

    /// <summary>A list of schema nodes compared by reference.</summary>
    private readonly struct SchemaKey(IReadOnlyList<(JsonObject Schema, string File)> schemas) : IEquatable<SchemaKey>
    {
        private readonly IReadOnlyList<(JsonObject Schema, string File)> _schemas = schemas;

        public bool Equals(SchemaKey other) =>
            _schemas.Count == other._schemas.Count && _schemas.Select(s => s.Schema).SequenceEqual(other._schemas.Select(s => s.Schema), ReferenceEqualityComparer.Instance);

        public override bool Equals(object? obj) => obj is SchemaKey k && Equals(k);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            foreach (var (schema, _) in _schemas)
            {
                hash.Add(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(schema));
            }

            return hash.ToHashCode();
        }
    }
}
