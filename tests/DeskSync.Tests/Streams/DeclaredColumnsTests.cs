using System.Text.Json.Nodes;
using DeskSync.Emulator.OpenApi;
using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Streams.Reads;
using DeskSync.ZohoDesk.Streams;

namespace DeskSync.Tests.Streams;

/// <summary>Every column a stream declares is a property of the answer it is read from, in Zoho's OpenAPI files (all of them, $refs resolved across files).</summary>
[Trait(Lanes.Key, Lanes.Fast)]
public sealed class DeclaredColumnsTests
{
    private static readonly OpenApiCatalog Catalog = OpenApiCatalog.Instance;

    public static TheoryData<string> Streams => [.. DeskStreams.All.Where(s => s.Read is not FieldDefinitionsRead).Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(Streams))]
    public void Every_declared_column_is_in_the_answer_the_stream_reads(string name)
    {
        var stream = DeskStreams.Find(name)!;
        var path = "/api/v1/" + (stream.Read is SearchRead ? stream.SearchPath : stream.Read is ListThenDetailRead ? stream.RecordPath("1") : stream.Parent is { } child ? child.PathOf("1").Split('?')[0] : stream.Path);
        var op = Catalog.Find("GET", path, out _);
        Assert.True(op is not null, $"{stream.Name}: no GET {path} in Zoho's OpenAPI files");
        var schema = op.ResponseSchema(Catalog, "200", out var file);
        Assert.NotNull(schema);

        var item = stream.Read is ListThenDetailRead ? [(schema, file)] : Items(schema, file, stream.Read is SingleAnswerRead ? stream.Path : stream.Parent?.ItemsKey ?? "data");
        var declared = item.SelectMany(i => Properties(i.Schema, i.File, 0)).ToHashSet(StringComparer.Ordinal);
        if (stream.Parent is { DetailPath: { } detail })
        {
            // A child completed by its own answer (a thread's content): the fields it takes from there.
            var detailOp = Catalog.Find("GET", "/api/v1/" + stream.Parent.DetailPathOf("1", "2"), out _);
            Assert.True(detailOp is not null, $"{stream.Name}: no GET {detail}");
            var detailSchema = detailOp.ResponseSchema(Catalog, "200", out var detailFile)!;
            declared.UnionWith(Properties(detailSchema, detailFile, 0).Intersect(stream.Parent.DetailFields));
        }

        // A child row's parent id is added by DeskSync when Zoho's item lacks it.
        var missing = stream.Fields.Select(f => f.Source).Where(f => !declared.Contains(f) && f != stream.Parent?.ParentField && f != stream.Parent?.ChildIdField && !(f == "id" && stream.Parent?.KeyTimeField is not null)).ToList();

        Assert.True(missing.Count == 0, $"{stream.Name} declares columns that {op.OperationId}'s answer does not have: {string.Join(", ", missing)}");
    }

    [Fact]
    public void The_check_can_fail()
    {
        var op = Catalog.Find("GET", "/api/v1/calls/search", out _)!;
        var schema = op.ResponseSchema(Catalog, "200", out var file)!;
        var declared = Items(schema, file, "data").SelectMany(i => Properties(i.Schema, i.File, 0)).ToHashSet(StringComparer.Ordinal);

        Assert.Contains("direction", declared);
        Assert.DoesNotContain("category", declared); // an event's, not a call's
    }

    /// <summary>The item schemas of the array under <paramref name="key"/>, through allOf and oneOf.</summary>
    private static List<(JsonObject Schema, string File)> Items(JsonObject schema, string file, string key)
    {
        var found = new List<(JsonObject, string)>();
        foreach (var (branch, branchFile) in Branches(schema, file, 0))
        {
            if (branch["properties"]?[key] is JsonObject array)
            {
                var (resolved, arrayFile) = Catalog.Resolve(array, branchFile);
                foreach (var (a, af) in Branches(resolved, arrayFile, 0))
                {
                    if (a["items"] is JsonObject items)
                    {
                        var (i, itemFile) = Catalog.Resolve(items, af);
                        found.Add((i, itemFile));
                    }
                }
            }
        }

        return found;
    }

    private static IEnumerable<string> Properties(JsonObject schema, string file, int depth) =>
        Branches(schema, file, depth).SelectMany(b => b.Schema["properties"] is JsonObject p ? p.Select(kv => kv.Key) : []);

    /// <summary>The schema and every allOf/oneOf/anyOf branch below it, resolved.</summary>
    private static IEnumerable<(JsonObject Schema, string File)> Branches(JsonObject schema, string file, int depth)
    {
        var (resolved, at) = Catalog.Resolve(schema, file);
        yield return (resolved, at);
        if (depth > 8)
        {
            yield break;
        }

        foreach (var key in new[] { "allOf", "oneOf", "anyOf" })
        {
            foreach (var part in resolved[key]?.AsArray() ?? [])
            {
                foreach (var b in Branches(part!.AsObject(), at, depth + 1))
                {
                    yield return b;
                }
            }
        }
    }
}
