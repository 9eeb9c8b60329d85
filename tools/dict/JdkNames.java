// Prints "package/Class.method" for every method (and "<init>") of every class of a few
// JDK modules, sorted: the Java half of the stored-format dictionary's training material
// (see make_dict.sh).  Run with `java JdkNames.java`.
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;
import java.util.stream.Stream;

public class JdkNames {
	static final String[] MODULES = {"java.base", "java.logging", "java.management",
		"java.net.http", "java.sql", "jdk.management", "java.xml"};

	public static void main(String[] args) throws Exception {
		FileSystem jrt = FileSystems.getFileSystem(URI.create("jrt:/"));
		TreeSet<String> names = new TreeSet<>();
		for (String module : MODULES) {
			String root = "/modules/" + module + "/";
			try (Stream<Path> files = Files.walk(jrt.getPath(root))) {
				for (Path file : (Iterable<Path>) files::iterator) {
					String f = file.toString();
					if (!f.endsWith(".class") || f.endsWith("module-info.class"))
						continue;
					String cls = f.substring(root.length(), f.length() - ".class".length());
					try {
						// Not initialized: loading must not run any class's static code.
						Class<?> c = Class.forName(cls.replace('/', '.'), false,
							ClassLoader.getSystemClassLoader());
						for (var m : c.getDeclaredMethods())
							names.add(cls + "." + m.getName());
						names.add(cls + ".<init>");
					} catch (Throwable t) {
						names.add(cls);
					}
				}
			}
		}
		for (String n : names)
			System.out.println(n);
	}
}
