using System.Text;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>Several sources' Prometheus text as one: every sample gets a source label, and each family's samples stay together under one HELP and TYPE.</summary>
internal static class MetricsMerge
{
    public static string Labelled(IEnumerable<(string Source, string Text)> sources)
    {
        var families = new List<string>();
        var headers = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var samples = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (source, text) in sources)
        {
            var family = "";
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.StartsWith("# ", StringComparison.Ordinal))
                {
                    family = line.Split(' ', 4) is [_, _, var name, ..] ? name : family;
                    if (!headers.TryGetValue(family, out var lines))
                    {
                        families.Add(family);
                        headers[family] = lines = [];
                        samples[family] = [];
                    }

                    if (lines.Count < 2)
                    {
                        lines.Add(line);
                    }

                    continue;
                }

                if (!samples.TryGetValue(family, out var list))
                {
                    families.Add(family);
                    headers[family] = [];
                    samples[family] = list = [];
                }

                list.Add(WithSource(line, source));
            }
        }

        var sb = new StringBuilder();
        foreach (var family in families)
        {
            foreach (var line in headers[family].Concat(samples[family]))
            {
                sb.Append(line).Append('\n');
            }
        }

        return sb.ToString();
    }

    private static string WithSource(string sample, string source)
    {
        var label = $"source=\"{source.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";
        var brace = sample.IndexOf('{', StringComparison.Ordinal);
        var space = sample.IndexOf(' ', StringComparison.Ordinal);
        return brace >= 0 && brace < space
            ? sample[..(brace + 1)] + label + "," + sample[(brace + 1)..]
            : sample[..space] + "{" + label + "}" + sample[space..];
    }
}
