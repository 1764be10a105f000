using DeskSync.Core;

namespace DeskSync.ZohoDesk.Catalog;

/// <summary>How a table is read in full with the fewest calls that give complete records.</summary>
public enum ReadStrategy
{
    /// <summary>GET /{module}/search sorted by createdTime, walked by a createdTime cursor in
    /// parallel time partitions: search answers carry modifiedTime and cf, and a cursor never
    /// needs an offset past 999.</summary>
    SearchByCreatedTime,

    /// <summary>GET /{module} with from/limit: the list answer is the complete record.</summary>
    List,

    /// <summary>GET /{module} for the ids, then GET /{module}/{id} for each: the list is thin and there is no search.</summary>
    ListThenDetail,

    /// <summary>GET /teams: one answer under "teams", no paging.</summary>
    Teams,

    /// <summary>GET /organizationFields?module=… for every module DeskSync reads.</summary>
    FieldDefinitions,
}

public sealed record StandardField(string Source, ColumnType Type);

/// <summary>A Zoho Desk table DeskSync replicates.</summary>
public sealed record DeskTable(
    string Name,
    string DisplayName,
    ReadStrategy Strategy,
    string Path,
    int PageSize,
    string? FieldsModule,
    IReadOnlyList<StandardField> Fields)
{
    public string SearchPath => Path + "/search";
}

/// <summary>
/// The tables and their declared columns. Page sizes are Zoho's caps (facts page §2); the fields
/// are those that the answer each table is read from carries in Zoho's OpenAPI schemas (search
/// for tickets, contacts, accounts, products and tasks; the list for departments and agents; the
/// detail for contracts).
/// Anything else a record carries is kept in the raw record column.
/// </summary>
public static class DeskTables
{
    private const ColumnType T = ColumnType.Text;
    private const ColumnType I = ColumnType.Integer;
    private const ColumnType D = ColumnType.Decimal;
    private const ColumnType B = ColumnType.Boolean;
    private const ColumnType Ts = ColumnType.Timestamp;
    private const ColumnType Dt = ColumnType.Date;
    private const ColumnType J = ColumnType.Json;

    /// <summary>Modules whose field definitions DeskSync reads (organizationFields?module=).</summary>
    public static readonly string[] FieldModules = ["tickets", "contacts", "accounts", "tasks", "contracts", "products"];

    public static readonly DeskTable Tickets = new("tickets", "Tickets", ReadStrategy.SearchByCreatedTime, "tickets", 100, "tickets", F(
        ("id", T), ("ticketNumber", I), ("subject", T), ("status", T), ("statusType", T), ("priority", T), ("channel", T),
        ("category", T), ("subCategory", T), ("classification", T), ("language", T), ("departmentId", T), ("contactId", T),
        ("accountId", T), ("productId", T), ("assigneeId", T), ("teamId", T), ("email", T), ("phone", T), ("description", T),
        ("resolution", T), ("createdTime", Ts), ("modifiedTime", Ts), ("createdBy", T), ("modifiedBy", T), ("dueDate", Ts),
        ("responseDueDate", Ts), ("closedTime", Ts), ("onholdTime", Ts), ("customerResponseTime", Ts), ("isSpam", B),
        ("isArchived", B), ("isEscalated", B), ("isOverDue", B), ("isRead", B), ("threadCount", I), ("commentCount", I), ("childTicketCount", I),
        ("webUrl", T), ("layoutId", T), ("slaId", T), ("secondaryContacts", J), ("sharedDepartments", J), ("entitySkills", J),
        ("lastThread", J), ("contact", J), ("department", J), ("assignee", J), ("team", J), ("product", J)));

    public static readonly DeskTable Departments = new("departments", "Departments", ReadStrategy.List, "departments", 200, null, F(
        ("id", T), ("name", T), ("description", T), ("isEnabled", B), ("isDefault", B), ("isVisibleInCustomerPortal", B),
        ("isAssignToTeamEnabled", B), ("hasLogo", B), ("chatStatus", T), ("sanitizedName", T), ("nameInCustomerPortal", T),
        ("creatorId", T), ("createdTime", Ts)));

    public static readonly DeskTable Products = new("products", "Products", ReadStrategy.SearchByCreatedTime, "products", 100, "products", F(
        ("id", T), ("productName", T), ("productCode", T), ("unitPrice", D), ("productCategory", T), ("description", T),
        ("departmentIds", J), ("ownerId", T), ("createdTime", Ts), ("modifiedTime", Ts), ("createdBy", T), ("modifiedBy", T),
        ("layoutId", T)));

    public static readonly DeskTable OrganizationFields = new("organization_fields", "OrganizationFields", ReadStrategy.FieldDefinitions, "organizationFields", 0, null, F(
        ("id", T), ("module", T), ("apiName", T), ("displayLabel", T), ("i18NLabel", T), ("name", T), ("type", T),
        ("isCustomField", B), ("isMandatory", B), ("isEncryptedField", B), ("maxLength", I), ("decimalPlaces", I),
        ("allowedValues", J)));

    public static readonly DeskTable Contracts = new("contracts", "Contracts", ReadStrategy.ListThenDetail, "contracts", 100, "contracts", F(
        ("id", T), ("contractName", T), ("contractNumber", T), ("contractStatus", T), ("startDate", Dt), ("endDate", Dt),
        ("accountId", T), ("productId", T), ("departmentId", T), ("ownerId", T), ("associatedSLAId", T), ("description", T),
        ("layoutId", T), ("createdTime", Ts), ("modifiedTime", Ts)));

    public static readonly DeskTable Contacts = new("contacts", "Contacts", ReadStrategy.SearchByCreatedTime, "contacts", 100, "contacts", F(
        ("id", T), ("firstName", T), ("lastName", T), ("email", T), ("secondaryEmail", T), ("phone", T), ("mobile", T),
        ("type", T), ("title", T), ("description", T), ("accountId", T), ("ownerId", T), ("isEndUser", B), ("street", T),
        ("city", T), ("state", T), ("zip", T), ("country", T), ("photoURL", T), ("webUrl", T), ("layoutId", T),
        ("createdTime", Ts), ("modifiedTime", Ts), ("customerHappiness", J)));

    public static readonly DeskTable Accounts = new("accounts", "Accounts", ReadStrategy.SearchByCreatedTime, "accounts", 100, "accounts", F(
        ("id", T), ("accountName", T), ("code", T), ("email", T), ("phone", T), ("fax", T), ("website", T), ("industry", T),
        ("annualrevenue", D), ("description", T), ("street", T), ("city", T), ("state", T), ("country", T), ("ownerId", T),
        ("createdTime", Ts), ("modifiedTime", Ts), ("webUrl", T), ("layoutId", T)));

    public static readonly DeskTable Agents = new("agents", "Agents", ReadStrategy.List, "agents", 200, null, F(
        ("id", T), ("firstName", T), ("lastName", T), ("name", T), ("emailId", T), ("phone", T), ("mobile", T), ("zuid", T),
        ("roleId", T), ("profileId", T), ("timeZone", T), ("langCode", T), ("status", T), ("isConfirmed", B),
        ("isZiaAgent", B), ("rolePermissionType", T), ("associatedDepartmentIds", J)));

    public static readonly DeskTable Teams = new("teams", "Teams", ReadStrategy.Teams, "teams", 0, null, F(
        ("id", T), ("name", T), ("description", T), ("departmentId", T), ("derivedAgents", J), ("roles", J),
        ("subTeams", J), ("logoUrl", T)));

    public static readonly DeskTable Tasks = new("tasks", "Tasks", ReadStrategy.SearchByCreatedTime, "tasks", 100, "tasks", F(
        ("id", T), ("subject", T), ("description", T), ("dueDate", Ts), ("priority", T), ("status", T), ("statusType", T),
        ("category", T), ("activityType", T), ("departmentId", T), ("ticketId", T), ("contactId", T), ("ownerId", T),
        ("creatorId", T), ("modifiedBy", J), ("completedTime", Ts), ("createdTime", Ts), ("modifiedTime", Ts),
        ("isCommented", B), ("webUrl", T), ("layoutId", T)));

    /// <summary>In load order: small reference tables first, field definitions before the tables they describe.</summary>
    public static readonly IReadOnlyList<DeskTable> All =
        [OrganizationFields, Departments, Agents, Teams, Products, Accounts, Contacts, Contracts, Tasks, Tickets];

    public static DeskTable? Find(string name) =>
        All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(t.DisplayName, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(t.Name.Replace("_", "", StringComparison.Ordinal), name.Replace("_", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));

    private static StandardField[] F(params (string Source, ColumnType Type)[] fields) => [.. fields.Select(f => new StandardField(f.Source, f.Type))];
}
