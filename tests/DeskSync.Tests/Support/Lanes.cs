namespace DeskSync.Tests.Support;

/// <summary>
/// The three lanes a test runs in, by the trait "Lane": <c>fast</c> (in process, no network, no
/// files: fake clocks and in-memory inputs), <c>integration</c> (the emulator over loopback HTTP,
/// real SQLite files and a real PostgreSQL server), <c>process</c> (real `desksync` processes,
/// SIGKILL rounds). Run one with <c>dotnet test DeskSync.sln --filter Lane=fast</c>.
/// </summary>
internal static class Lanes
{
    public const string Key = "Lane";
    public const string Fast = "fast";
    public const string Integration = "integration";
    public const string Process = "process";
}
