using System.Globalization;
using System.Text.Json.Nodes;
using DeskSync.Emulator.OpenApi;
using Microsoft.AspNetCore.Http;

namespace DeskSync.Emulator.Desk;

/// <summary>Query parameters: checked against the operation's OpenAPI parameters, then filtering, sorting, paging and include=.</summary>
public sealed partial class DeskApi
{
    /// <summary>The indexes and count of a search that only asks for a createdTime range sorted by createdTime (either way), or null.</summary>
    private (List<int> Indexes, int Count)? CreatedTimeWindow(IReadOnlyList<JsonObject> ordered, IQueryCollection query)
    {
        var descending = query["sortBy"].ToString() == "-createdTime";
        if ((query["sortBy"].ToString() != "createdTime" && !descending) || query.Keys.Any(k => k is not ("createdTimeRange" or "sortBy" or "from" or "limit" or "orgId"))
            || query["createdTimeRange"].ToString().Split(',') is not [var startText, var endText]
            || Portal.ParseTime(startText) is not { } start || Portal.ParseTime(endText) is not { } end)
        {
            return null;
        }

        var lo = LowerBound(ordered, Portal.Iso(start), inclusive: true);
        var hi = LowerBound(ordered, Portal.Iso(end), inclusive: false);
        var from = int.TryParse(query["from"], CultureInfo.InvariantCulture, out var f) ? Math.Max(0, f - _options.FromBase) : 0;
        var limit = int.TryParse(query["limit"], CultureInfo.InvariantCulture, out var l) ? l : 10;
        var indexes = descending ? NewestFirst(ordered, lo, hi) : Enumerable.Range(lo, Math.Max(0, hi - lo));
        return ([.. indexes.Skip(from).Take(limit)], Math.Max(0, hi - lo));
    }

    /// <summary>Indexes of [lo, hi) newest first; records of the same millisecond keep their stored order, as a stable sort gives.</summary>
    private static IEnumerable<int> NewestFirst(IReadOnlyList<JsonObject> ordered, int lo, int hi)
    {
        string? Created(int i) => ordered[i]["createdTime"]?.GetValue<string>();
        var end = hi - 1;
        while (end >= lo)
        {
            var created = Created(end);
            var start = end;
            while (start - 1 >= lo && Created(start - 1) == created)
            {
                start--;
            }

            for (var i = start; i <= end; i++)
            {
                yield return i;
            }

            end = start - 1;
        }
    }

    /// <summary>First index whose createdTime is ≥ (inclusive) or &gt; (exclusive) the key.</summary>
    private static int LowerBound(IReadOnlyList<JsonObject> ordered, string key, bool inclusive)
    {
        int a = 0, b = ordered.Count;
        while (a < b)
        {
            var m = (a + b) / 2;
            var c = string.CompareOrdinal(ordered[m]["createdTime"]?.GetValue<string>(), key);
            if (c < 0 || (!inclusive && c == 0))
            {
                a = m + 1;
            }
            else
            {
                b = m;
            }
        }

        return a;
    }

    private static HashSet<string> Includes(IQueryCollection query) =>
        query["include"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToHashSet(StringComparer.Ordinal);

    private static JsonObject WithoutIncludes(JsonObject record, HashSet<string> include)
    {
        var copy = record.DeepClone().AsObject();
        foreach (var (property, asks) in Includable)
        {
            if (!asks.Any(include.Contains))
            {
                copy.Remove(property);
            }
        }

        return copy;
    }

    private List<JsonObject> Page(List<JsonObject> records, IQueryCollection query)
    {
        var from = int.TryParse(query["from"], CultureInfo.InvariantCulture, out var f) ? f : _options.FromBase;
        var limit = int.TryParse(query["limit"], CultureInfo.InvariantCulture, out var l) ? l : 10;
        var start = Math.Max(0, from - _options.FromBase);
        return records.Skip(start).Take(limit).ToList();
    }

    private static IEnumerable<JsonObject> Filter(IEnumerable<JsonObject> records, IQueryCollection query)
    {
        foreach (var (name, values) in query)
        {
            if (NonFilters.Contains(name))
            {
                continue;
            }

            var value = values.ToString();
            if (name.EndsWith("Range", StringComparison.Ordinal))
            {
                var field = name[..^"Range".Length];
                var parts = value.Split(',');
                var lo = Portal.ParseTime(parts[0]);
                var hi = parts.Length > 1 ? Portal.ParseTime(parts[1]) : null;
                records = records.Where(r => Portal.ParseTime(r[field]?.GetValue<string>()) is { } t && (lo is null || t >= lo) && (hi is null || t <= hi));
            }
            else if (name is "departmentId" && value == "0")
            {
                // departmentId=0 means all departments.
            }
            else if (name is "departmentIds" or "ownerIds" or "teamIds" or "roleIds")
            {
                var field = name[..^1];
                var set = value.Split(',').ToHashSet(StringComparer.Ordinal);
                records = records.Where(r => r[field]?.GetValue<string>() is { } v && set.Contains(v));
            }
            else if (name is "_all" or "subject" or "description" or "searchStr")
            {
                var field = name is "_all" or "searchStr" ? "subject" : name;
                var needle = value.Trim('*');
                records = records.Where(r => r[field]?.ToString().Contains(needle, StringComparison.OrdinalIgnoreCase) == true);
            }
            else if (name == "assignee")
            {
                records = records.Where(r => r["assigneeId"]?.ToString() == value);
            }
            else
            {
                records = records.Where(r => !r.ContainsKey(name) || string.Equals(r[name]?.ToString(), value, StringComparison.OrdinalIgnoreCase));
            }
        }

        return records;
    }

    private static IEnumerable<JsonObject> Sort(IEnumerable<JsonObject> records, string sortBy)
    {
        // Without sortBy: oldest first [G] — stable under inserts, which arrive at the end.
        var descending = sortBy.StartsWith('-');
        var field = sortBy.TrimStart('-');
        if (field is "" or "relevance")
        {
            field = "createdTime";
        }

        var keyed = records.Select(r => (Record: r, Key: r[field]?.ToString() ?? "", Id: r["id"]!.GetValue<string>()));
        var ordered = descending
            ? keyed.OrderByDescending(k => k.Key, StringComparer.Ordinal).ThenByDescending(k => k.Id.Length).ThenByDescending(k => k.Id, StringComparer.Ordinal)
            : keyed.OrderBy(k => k.Key, StringComparer.Ordinal).ThenBy(k => k.Id.Length).ThenBy(k => k.Id, StringComparer.Ordinal);
        return ordered.Select(k => k.Record);
    }

    private (string Field, string Type, string Message)? ValidateQuery(OpenApiOperation op, IQueryCollection query)
    {
        foreach (var (name, values) in query)
        {
            if (name == "orgId")
            {
                continue;
            }

            if (!op.QueryParameters.TryGetValue(name, out var schema))
            {
                return (name, "invalid", $"Extra query parameter '{name}' is present in the input.");
            }

            var value = values.ToString();
            var types = schema["type"] is JsonArray ta ? ta.Select(t => t!.GetValue<string>()).ToHashSet() : [schema["type"]?.GetValue<string>() ?? "string"];
            if (types.Contains("integer") || schema["format"]?.GetValue<string>() is "int32")
            {
                if (name is not "from" and not "limit")
                {
                    continue;
                }

                if (!long.TryParse(value, CultureInfo.InvariantCulture, out var number))
                {
                    return (name, "invalid", $"The value passed for field '{name}' is not a number.");
                }

                var min = schema["minimum"]?.GetValue<long>() ?? 0;
                long? max = schema["maximum"]?.GetValue<long>();
                if (name == "limit")
                {
                    max ??= FallbackCaps.GetValueOrDefault(op.OperationId, 100);
                    min = Math.Max(min, 1);
                }
                else
                {
                    min = Math.Min(min, _options.FromBase);
                    max = SearchModules.ContainsKey(op.OperationId) ? _options.SearchOffsetMax : _options.ListOffsetMax;
                }

                if (number < min || number > max)
                {
                    return (name, "invalid", $"The value passed for field '{name}' exceeds the range of '{min}-{max}'");
                }
            }
            else if (name == "include" || schema["items"] is JsonObject)
            {
                var allowed = schema["items"]?["enum"]?.AsArray().Select(e => e?.ToString()).ToHashSet();
                foreach (var item in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (allowed is not null && !allowed.Contains(item))
                    {
                        return (name, "invalid", $"The value '{item}' passed for field '{name}' is not allowed.");
                    }
                }
            }
            else if (schema["enum"] is JsonArray allowedValues)
            {
                var candidate = name == "sortBy" ? value.TrimStart('-') : value;
                if (!allowedValues.Any(e => e?.ToString() == candidate))
                {
                    return (name, "invalid", $"The value '{value}' passed for field '{name}' is not allowed.");
                }
            }
            else if (name.EndsWith("Range", StringComparison.Ordinal))
            {
                var parts = value.Split(',');
                if (parts.Length != 2 || parts.Any(p => Portal.ParseTime(p) is null))
                {
                    return (name, "invalid", $"The value passed for field '{name}' must be 'start,end' in ISO-8601.");
                }
            }
        }

        if (op.OperationId == "getTicketsTags" && string.IsNullOrEmpty(query["departmentId"]))
        {
            return ("departmentId", "missing", "The parameter 'departmentId' is required.");
        }

        if (op.OperationId == "getFields" && string.IsNullOrEmpty(query["module"]))
        {
            return ("module", "missing", "The parameter 'module' is required.");
        }

        return null;
    }
}
