using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using DeskSync.ZohoDesk.Streams;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>Finds the record in whatever a workflow rule or custom function posted (facts page §5, workflow-rule variant).</summary>
public static partial class WorkflowBody
{
    /// <summary>The modules workflow rules run on, tickets (what most rules are about) first.</summary>
    private static readonly StreamEvents[] RuleModules =
        [.. DeskStreams.All.Select(s => s.Events).OfType<StreamEvents>().Where(e => e.HasWorkflowRules).OrderBy(e => e.Module == "Ticket" ? 0 : 1)];

    /// <summary>Each module's id field (ticketId → Ticket), then the names that leave the module to the body's module field.</summary>
    private static readonly (string Key, string Module)[] IdKeys =
    [
        .. RuleModules.Select(e => (e.IdField, e.Module)),
        ("id", ""), ("entityId", ""), ("recordId", ""),
    ];

    /// <summary>Top-level (and one level nested) fields of a JSON or form body; other text as "text".</summary>
    public static Dictionary<string, string> Fields(byte[] body, string? contentType)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var text = Encoding.UTF8.GetString(body);
        if (contentType?.Contains("form-urlencoded", StringComparison.OrdinalIgnoreCase) == true)
        {
            foreach (var pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                var key = Uri.UnescapeDataString((eq < 0 ? pair : pair[..eq]).Replace('+', ' '));
                fields.TryAdd(key, eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' ')));
            }

            return fields;
        }

        try
        {
            using var doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
            Collect(doc.RootElement, fields, 0);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            fields["text"] = text;
        }

        return fields;
    }

    public static (string Module, string? Id) FindRecord(IReadOnlyDictionary<string, string> fields)
    {
        var named = ModuleOf(fields.GetValueOrDefault("module") ?? fields.GetValueOrDefault("moduleName") ?? fields.GetValueOrDefault("entity"));
        var module = named?.Module ?? "Ticket";
        // The named module's own id comes first: a call's rule may send its ticketId too.
        IEnumerable<(string Key, string Module)> keys = named is null ? IdKeys : [(named.IdField, named.Module), .. IdKeys];
        foreach (var (key, keyModule) in keys)
        {
            if (fields.TryGetValue(key, out var value) && ZohoId().Match(value) is { Success: true } m && m.Value == value.Trim())
            {
                return (keyModule.Length > 0 ? keyModule : module, m.Value);
            }
        }

        foreach (var value in fields.Values)
        {
            if (ZohoId().Match(value) is { Success: true } m)
            {
                return (module, m.Value);
            }
        }

        return (module, null);
    }

    private static StreamEvents? ModuleOf(string? name) => name?.Trim().ToLowerInvariant() is { } lower
        ? RuleModules.FirstOrDefault(e => e.WorkflowNames.Contains(lower))
        : null;

    private static void Collect(JsonElement element, Dictionary<string, string> fields, int depth)
    {
        if (element.ValueKind != JsonValueKind.Object || depth > 1)
        {
            if (element.ValueKind == JsonValueKind.String && depth == 0)
            {
                fields["text"] = element.GetString()!;
            }

            return;
        }

        foreach (var property in element.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String:
                    fields.TryAdd(property.Name, property.Value.GetString()!);
                    break;
                case JsonValueKind.Number:
                    fields.TryAdd(property.Name, property.Value.GetRawText());
                    break;
                case JsonValueKind.Object:
                    Collect(property.Value, fields, depth + 1);
                    break;
            }
        }
    }

    /// <summary>Zoho record ids are 15 to 19 digit numbers.</summary>
    [GeneratedRegex(@"(?<!\d)\d{15,19}(?!\d)")]
    private static partial Regex ZohoId();
}
