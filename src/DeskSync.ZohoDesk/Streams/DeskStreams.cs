using DeskSync.Core;

namespace DeskSync.ZohoDesk.Streams;

/// <summary>
/// Every stream DeskSync replicates; each is declared in its own file under Tables/. Page sizes are
/// Zoho's caps (facts page §2); the declared fields are those the answer each table is read from
/// carries in Zoho's OpenAPI schemas. Anything else a record carries is kept in the raw record column.
/// </summary>
public static partial class DeskStreams
{
    private const ColumnType T = ColumnType.Text;
    private const ColumnType I = ColumnType.Integer;
    private const ColumnType D = ColumnType.Decimal;
    private const ColumnType B = ColumnType.Boolean;
    private const ColumnType Ts = ColumnType.Timestamp;
    private const ColumnType Dt = ColumnType.Date;
    private const ColumnType J = ColumnType.Json;

    private static IReadOnlyList<DeskStream>? _all;

    /// <summary>In load order: small reference tables first, field definitions before the tables they describe.</summary>
    // A property, not a field: the streams are declared in several files, whose initialisers run in no set order.
    public static IReadOnlyList<DeskStream> All => _all ??=
        [OrganizationFields, Departments, Agents, Teams, Products, Accounts, Contacts, Contracts, Tasks, Calls, Events, Tickets,
            TicketThreads, TicketComments, TicketAttachments, TicketTimeEntries, TicketTags, TicketHistory, Tags];

    /// <summary>
    /// What a sync takes when no tables are named: every table but the children read per record of
    /// another — per ticket they cost a list call per ticket and kind (their credits are the user's
    /// to spend: `--tables all`).
    /// </summary>
    public static IReadOnlyList<DeskStream> Default => [.. All.Where(s => s.Parent is null)];

    /// <summary>The tables named, with the parent of each child named (a child is read through its parent, and kept current by its parent's events).</summary>
    public static IReadOnlyList<DeskStream> WithParents(IEnumerable<DeskStream> selected)
    {
        var set = selected.ToHashSet();
        set.UnionWith([.. set.Where(s => s.Parent is not null).Select(s => s.Parent!.Parent)]);
        return [.. All.Where(set.Contains)];
    }

    /// <summary>The streams read per record of <paramref name="parent"/>.</summary>
    public static IReadOnlyList<DeskStream> ChildrenOf(DeskStream parent) => [.. All.Where(s => s.Parent?.ParentName == parent.Name)];

    /// <summary>The child stream whose webhook event this is (Ticket_Thread_Add), if any.</summary>
    public static DeskStream? ByChildEvent(string eventType) => All.FirstOrDefault(s => s.Parent?.Events.Contains(eventType) == true);

    /// <summary>Modules whose field definitions DeskSync reads (organizationFields?module=).</summary>
    public static IReadOnlyList<string> FieldModules => [.. All.Select(s => s.FieldsModule).OfType<string>().Distinct()];

    /// <summary>The scopes a full setup asks for: every stream's, then the webhook API's.</summary>
    public static IReadOnlyList<string> Scopes => [.. All.SelectMany(s => s.Scopes).Append("Desk.events.ALL").Distinct()];

    /// <summary>The stream whose webhook events carry this prefix (Ticket, Contact, …), if any.</summary>
    public static DeskStream? ByEventModule(string module) =>
        All.FirstOrDefault(s => s.Events is { } e && string.Equals(e.Module, module, StringComparison.Ordinal));

    public static DeskStream? Find(string name) =>
        All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(t.DisplayName, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(t.Name.Replace("_", "", StringComparison.Ordinal), name.Replace("_", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));

    private static StandardField[] F(params (string Source, ColumnType Type)[] fields) => [.. fields.Select(f => new StandardField(f.Source, f.Type))];
}
