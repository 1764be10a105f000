using DeskSync.Cli;
using DeskSync.Tests.Support;

namespace DeskSync.Tests.Cli;

/// <summary>The service URL belongs to the data source: a move or a restore keeps it, a copy beside the original gets its own.</summary>
[Trait(Lanes.Key, Lanes.Integration)]
public sealed class ServiceTokensTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("desksync-tokens-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_data_source_keeps_its_token_and_a_copy_beside_the_original_gets_a_new_one()
    {
        var config = Settings("a");
        var (first, notice) = ServiceTokens.Ensure(config, "default");
        var (again, none) = ServiceTokens.Ensure(config, "default");

        Assert.NotNull(notice);
        Assert.Null(none);
        Assert.Equal(first, again);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ServiceTokens.PathOf(config, "default")));

        // Copy the whole folder to make a second data source: the original is still there, so they must not share the URL.
        var copy = Path.Combine(_dir, "b", "desksync.json");
        CopyFolder(Path.Combine(_dir, "a"), Path.Combine(_dir, "b"));
        var (copied, warning) = ServiceTokens.Ensure(copy, "default");

        Assert.NotEqual(first, copied);
        Assert.Contains("copied", warning, StringComparison.Ordinal);
        Assert.Equal(first, ServiceTokens.Ensure(config, "default").Token);
        Assert.Equal(copied, ServiceTokens.Ensure(copy, "default").Token);
        Assert.Equal("https://x/hooks/abc…xyz", ServiceTokens.Redact("https://x/hooks/abcdefghijklmnopqrstuvwxyz"));
    }

    [Fact]
    public void Moving_the_folder_restoring_it_elsewhere_or_renaming_the_settings_file_keeps_the_token()
    {
        var config = Settings("a");
        var (token, _) = ServiceTokens.Ensure(config, "default");

        Directory.Move(Path.Combine(_dir, "a"), Path.Combine(_dir, "moved"));
        var moved = Path.Combine(_dir, "moved", "desksync.json");
        var (afterMove, notice) = ServiceTokens.Ensure(moved, "default");
        Assert.Equal(token, afterMove);
        Assert.Contains("moved", notice, StringComparison.Ordinal);

        // Restored from a backup on another machine: a new path, and the old one does not exist there.
        CopyFolder(Path.Combine(_dir, "moved"), Path.Combine(_dir, "restored"));
        Directory.Delete(Path.Combine(_dir, "moved"), recursive: true);
        Assert.Equal(token, ServiceTokens.Ensure(Path.Combine(_dir, "restored", "desksync.json"), "default").Token);

        File.Move(Path.Combine(_dir, "restored", "desksync.json"), Path.Combine(_dir, "restored", "prod.json"));
        Assert.Equal(token, ServiceTokens.Ensure(Path.Combine(_dir, "restored", "prod.json"), "default").Token);
    }

    [Fact]
    public void A_token_file_from_an_earlier_version_is_kept_where_it_was_made()
    {
        var config = Settings("a");
        var path = ServiceTokens.PathOf(config, "default");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, $"{{\"Token\":\"abcdefghijklmnopqrstuvwxyz012345\",\"Owner\":\"default@{config}\"}}");

        var (token, notice) = ServiceTokens.Ensure(config, "default");

        Assert.Equal("abcdefghijklmnopqrstuvwxyz012345", token);
        Assert.Null(notice);
    }

    private string Settings(string folder)
    {
        var config = Path.Combine(_dir, folder, "desksync.json");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        File.WriteAllText(config, "{}");
        return config;
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
