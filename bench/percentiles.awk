# Shared by the bench scripts: reads samples "NAME MICROSECONDS", one a line, and prints, for each
# NAME in `order` (-v order="a b c"), one line "NAME MEDIAN_MS P90_MS" (nearest rank; a name without
# samples prints nothing). Each script formats its own table from these lines.
{ n[$1]++; v[$1, n[$1]] = $2 / 1000 }
function sortv(name,   i, j, t) { for (i = 1; i <= n[name]; i++) for (j = i + 1; j <= n[name]; j++) if (v[name, j] < v[name, i]) { t = v[name, i]; v[name, i] = v[name, j]; v[name, j] = t } }
function pct(name, p,   k) { k = int(p * (n[name] - 1) + 0.5) + 1; return v[name, k] }
END {
    count = split(order, names, " ")
    for (i = 1; i <= count; i++) {
        if (!(names[i] in n)) continue
        sortv(names[i])
        printf "%s %.3f %.3f\n", names[i], pct(names[i], 0.5), pct(names[i], 0.9)
    }
}
