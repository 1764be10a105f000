using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeskSync.Emulator.Desk;

/// <summary>
/// The data of one fake Zoho Desk portal: its organization, its records per module and the
/// field definitions per module. Records are stored whole (what GET /{module}/{id} answers);
/// each endpoint cuts them to its own OpenAPI shape. Records are replaced, never mutated in
/// place, so a reader can shape a snapshot while the admin API changes the portal.
/// </summary>
public sealed partial class Portal
{
    public static readonly string[] Modules = [.. EmulatedModules.All.Select(m => m.Name)];

    private readonly Lock _gate = new();
    private readonly Dictionary<string, RecordTable> _tables;
    private readonly Dictionary<string, List<JsonObject>> _fields = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> _recycleBin = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly PortalGenerator _generator;

    public Portal(EmulatorOptions options)
    {
        _time = options.Time;
        OrgId = options.OrgId;
        _tables = Modules.ToDictionary(m => m, _ => new RecordTable(options.CompactStore), StringComparer.Ordinal);
        _generator = new PortalGenerator(options, this);
        Organization = _generator.Organization();
        _generator.Populate();
    }

    public string OrgId { get; }

    public JsonObject Organization { get; }

    /// <summary>Raised after every admin change, with the module, the operation and the record
    /// (the deleted record for deletes). The webhook sender listens here.</summary>
    public event Action<PortalChange>? Changed;

    public IReadOnlyList<JsonObject> List(string module)
    {
        lock (_gate)
        {
            return _tables[module].Snapshot();
        }
    }

    public int Count(string module)
    {
        lock (_gate)
        {
            return _tables[module].Count;
        }
    }

    public JsonObject? Get(string module, string id)
    {
        lock (_gate)
        {
            return _tables[module].Get(id);
        }
    }

    public IReadOnlyList<JsonObject> Fields(string module)
    {
        lock (_gate)
        {
            return _fields.TryGetValue(module, out var list) ? [.. list] : [];
        }
    }

    public JsonObject Create(string module, JsonObject? values)
    {
        JsonObject record;
        lock (_gate)
        {
            record = _generator.NewRecord(module, _time.GetUtcNow());
            Overlay(record, values);
            _generator.SyncDerivedFields(module, record);
            _tables[module].Add(record);
        }

        Changed?.Invoke(new PortalChange(module, ChangeKind.Create, record, null));
        return record;
    }

    public JsonObject? Update(string module, string id, JsonObject values)
    {
        JsonObject previous, record;
        lock (_gate)
        {
            if (_tables[module].Get(id) is not { } stored)
            {
                return null;
            }

            previous = stored;

            record = previous.DeepClone().AsObject();
            Overlay(record, values);
            _generator.SyncDerivedFields(module, record);
            if (record.ContainsKey("modifiedTime"))
            {
                // An update always moves modifiedTime forward, even within the same millisecond.
                var now = _time.GetUtcNow();
                var before = ParseTime(previous["modifiedTime"]?.GetValue<string>());
                if (before is { } b && now <= b)
                {
                    now = b.AddMilliseconds(1);
                }

                record["modifiedTime"] = Iso(now);
            }

            _tables[module].Replace(record);
            if (module == "tickets")
            {
                RecordTicketChange(previous, record);
            }
        }

        Changed?.Invoke(new PortalChange(module, ChangeKind.Update, record, previous));
        return record;
    }

    public bool Delete(string module, string id)
    {
        JsonObject? removed;
        lock (_gate)
        {
            removed = _tables[module].Remove(id);
            if (removed is null)
            {
                return false;
            }

            if (module == "tickets")
            {
                // Deleted tickets go to the recycle bin for 60 days; lists and searches stop returning them.
                var trashed = removed.DeepClone().AsObject();
                trashed["isDeleted"] = true;
                trashed["isTrashed"] = true;
                trashed["modifiedTime"] = Iso(_time.GetUtcNow());
                _recycleBin[id] = trashed;
            }
        }

        Changed?.Invoke(new PortalChange(module, ChangeKind.Delete, removed, removed));
        return true;
    }

    public JsonObject AddField(string module, JsonObject definition)
    {
        lock (_gate)
        {
            if (!_fields.TryGetValue(module, out var list))
            {
                _fields[module] = list = [];
            }

            list.Add(definition);
            return definition;
        }
    }

    /// <summary>Removes a field definition (records keep their values under cf, as Zoho's would until edited).</summary>
    public bool RemoveField(string module, string apiName)
    {
        lock (_gate)
        {
            return _fields.TryGetValue(module, out var list) && list.RemoveAll(f => f["apiName"]?.GetValue<string>() == apiName) > 0;
        }
    }

    internal void Seed(string module, JsonObject record) => _tables[module].Add(record);

    internal void Reseed(string module, JsonObject record) => _tables[module].Replace(record);

    internal string NextId() => _generator.NextId();

    internal static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    internal static DateTimeOffset? ParseTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;

    private static void Overlay(JsonObject record, JsonObject? values)
    {
        if (values is null)
        {
            return;
        }

        foreach (var (key, value) in values)
        {
            if (key is "id" or "createdTime")
            {
                continue;
            }

            if (key == "cf" && value is JsonObject cf && record["cf"] is JsonObject existing)
            {
                foreach (var (k, v) in cf)
                {
                    existing[k] = v?.DeepClone();
                }

                continue;
            }

            record[key] = value?.DeepClone();
        }
    }

    /// <summary>
    /// One module's records in createdTime order. Readers get an immutable snapshot, rebuilt only
    /// after a change. Compact tables hold UTF-8 JSON and parse a record when it is read.
    /// </summary>
    private sealed class RecordTable(bool compact)
    {
        private readonly List<object> _ordered = [];
        private readonly Dictionary<string, object> _byId = new(StringComparer.Ordinal);
        private RecordList? _snapshot;

        public int Count => _byId.Count;

        public RecordList Snapshot() => _snapshot ??= new RecordList([.. _ordered]);

        public JsonObject? Get(string id) => _byId.TryGetValue(id, out var stored) ? RecordList.Load(stored) : null;

        public void Add(JsonObject record)
        {
            var stored = Store(record);
            _byId[record["id"]!.GetValue<string>()] = stored;
            _ordered.Add(stored);
            _snapshot = null;
        }

        public void Replace(JsonObject record)
        {
            var id = record["id"]!.GetValue<string>();
            var stored = Store(record);
            _ordered[_ordered.IndexOf(_byId[id])] = stored; // reference equality: no record is parsed
            _byId[id] = stored;
            _snapshot = null;
        }

        public JsonObject? Remove(string id)
        {
            if (!_byId.Remove(id, out var stored))
            {
                return null;
            }

            _ordered.Remove(stored);
            _snapshot = null;
            return RecordList.Load(stored);
        }

        private object Store(JsonObject record) => compact ? JsonSerializer.SerializeToUtf8Bytes(record) : record;
    }

    /// <summary>A read-only list of records; compact ones are parsed on access (each read a new object).</summary>
    private sealed class RecordList(object[] items) : IReadOnlyList<JsonObject>
    {
        public int Count => items.Length;

        public JsonObject this[int index] => Load(items[index]);

        public static JsonObject Load(object stored) => stored as JsonObject ?? JsonNode.Parse((byte[])stored)!.AsObject();

        public IEnumerator<JsonObject> GetEnumerator() => items.Select(Load).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

public enum ChangeKind
{
    Create,
    Update,
    Delete,
}

/// <param name="ParentId">For a child (a thread), the ticket it belongs to.</param>
public sealed record PortalChange(string Module, ChangeKind Kind, JsonObject Record, JsonObject? Previous, string? ParentId = null);
