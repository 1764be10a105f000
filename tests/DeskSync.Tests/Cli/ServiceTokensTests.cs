using DeskSync.Cli;

namespace DeskSync.Tests.Cli;

public sealed class ServiceTokensTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-tokens-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_data_source_keeps_its_token_and_a_copied_one_gets_a_new_one()
    {
        var config = Path.Combine(_dir, "a", "desksync.json");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        var (first, notice) = ServiceTokens.Ensure(config, "default");
        var (again, none) = ServiceTokens.Ensure(config, "default");

        Assert.NotNull(notice);
        Assert.Null(none);
        Assert.Equal(first, again);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ServiceTokens.PathOf(config, "default")));

        // Copy the whole folder to make a second data source: it must not share the service URL.
        var copy = Path.Combine(_dir, "b", "desksync.json");
        Directory.CreateDirectory(Path.Combine(_dir, "b", ".desksync", "secrets"));
        File.Copy(ServiceTokens.PathOf(config, "default"), ServiceTokens.PathOf(copy, "default"));
        var (copied, warning) = ServiceTokens.Ensure(copy, "default");

        Assert.NotEqual(first, copied);
        Assert.Contains("copied", warning, StringComparison.Ordinal);
        Assert.Equal("https://x/hooks/abc…xyz", ServiceTokens.Redact("https://x/hooks/abcdefghijklmnopqrstuvwxyz"));
    }
}
