/* espcn-sample-data OUT_DIR: a small Food-101-shaped training set of real
 * photographs taken from two Debian packages, so the project can be trained
 * and tested without downloading Food-101.
 *
 *   OUT_DIR/.debs/    the two .deb files (apt-get download, reused if present)
 *   OUT_DIR/.src/     their contents (dpkg -x, nothing is installed)
 *   OUT_DIR/images/<class>/<id>.jpg   tiles, JPEG quality 95
 *   OUT_DIR/meta/train.txt, meta/test.txt   `<class>/<id>` per line
 *   OUT_DIR/manifest.tsv   package, version, path, sha256 and tile count of
 *                          every source photograph (written last: its presence
 *                          marks a complete run)
 *
 * class = the source photograph, so tiles of one photo are never split between
 * train and test. Whole photos go to test, in a fixed seeded order, until test
 * holds max(50, 20%) of the tiles while train keeps at least 200.
 *
 * Tiles are 512x384 (Food-101's usual size), taken on a centred grid; a photo
 * smaller than a tile in a dimension is kept whole in that dimension. The
 * 2560x1600 wallpapers give tiles at full resolution (20 each) and at half
 * resolution (MATLAB-bicubic, antialiased: 4 each, a wider field of view with
 * sharper detail, since several wallpapers are soft at full size); without the
 * full-resolution tiles the set would be far under 250 tiles. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "image/image-io.h"
#include "image/imresize.h"
#include "util/atomic-file.h"
#include "util/rng.h"

#define TILE_W 512
#define TILE_H 384
#define MIN_TRAIN 200
#define MIN_TEST 50
#define SPLIT_SEED 20240501

typedef struct {
  const char *package;
  const char *path; /* inside the package */
  const char *class_name;
  gboolean half_too; /* also tile a half-resolution copy */
} Source;

/* plasma-workspace-wallpapers: the photographs only, largest JPEG of each.
 * Excluded: Autumn (painting), Kite (sky photo with a drawn logo pasted in),
 * PastelHills, Flow, Honeywave, SafeLanding, Shell, Volna and the PNG-only
 * wallpapers (renders and abstract art). */
#define WP(name) { "plasma-workspace-wallpapers", \
    "usr/share/wallpapers/" name "/contents/images/2560x1600.jpg", name, TRUE }
/* opencv-doc examples/data: colour photographs only. Excluded: baboon.jpg
 * (it is Set14's baboon); drawings, logos, renders and synthetic images
 * (HappyFish, LinuxLogo, WindowsLogo, Blender_Suzanne*, blox, cards, pic*,
 * ellipses, detect_blob, gradient, mask, starry_night is a painting,
 * licenseplate_motion is synthetically blurred); text and charts (text_*,
 * imageText*, sudoku, notes, digits, alphabet, ml); calibration boards
 * (left*, right*, chessboard); grayscale photos (basketball*, box*, pca_test1);
 * the second image of stereo / flow / editing pairs, a near-duplicate of the
 * first (aloeR, rubberwhale2, leuvenB, graf3, ela_modified). butterfly.jpg is
 * a swallowtail on a leaf, not Set5's butterfly nor Set14's monarch. */
#define CV(file, name) { "opencv-doc", "usr/share/doc/opencv-doc/examples/data/" file, \
    "opencv-" name, FALSE }

static const Source sources[] = {
  WP ("BytheWater"), WP ("ColdRipple"), WP ("ColorfulCups"), WP ("DarkestHour"),
  WP ("EveningGlow"), WP ("FallenLeaf"), WP ("Grey"), WP ("OneStandsOut"), WP ("Path"),
  WP ("summer_1am"),
  CV ("aero1.jpg", "aero1"), CV ("aero3.jpg", "aero3"), CV ("aloeL.jpg", "aloe"),
  CV ("apple.jpg", "apple"), CV ("board.jpg", "board"), CV ("building.jpg", "building"),
  CV ("butterfly.jpg", "butterfly"), CV ("chicky_512.png", "chicky"),
  CV ("ela_original.jpg", "ela"), CV ("fruits.jpg", "fruits"), CV ("graf1.png", "graf"),
  CV ("home.jpg", "home"), CV ("leuvenA.jpg", "leuven"), CV ("messi5.jpg", "messi"),
  CV ("orange.jpg", "orange"), CV ("rubberwhale1.png", "rubberwhale"),
  CV ("smarties.png", "smarties"), CV ("squirrel_cls.jpg", "squirrel"),
  CV ("stuff.jpg", "stuff"),
};

static const char *const packages[] = { "plasma-workspace-wallpapers", "opencv-doc" };

typedef struct {
  gchar *deb;
  gchar *version;
} Package;

static gboolean
run (const char *const *argv, const char *cwd, gchar **out, GError **error)
{
  g_autofree gchar *std_out = NULL, *std_err = NULL;
  gint status = 0;
  g_autofree gchar *cmd = g_strjoinv (" ", (gchar **) argv);
  if (!g_spawn_sync (cwd, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &std_out,
          &std_err, &status, error)) {
    g_prefix_error (error, "cannot run '%s': ", cmd);
    return FALSE;
  }
  if (!g_spawn_check_wait_status (status, NULL)) {
    g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "'%s' failed: %s", cmd,
        std_err && *std_err ? g_strstrip (std_err) : "(no message)");
    return FALSE;
  }
  if (out)
    *out = g_strstrip (g_steal_pointer (&std_out));
  return TRUE;
}

static gchar *
find_deb (const char *dir, const char *package)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return NULL;
  g_autofree gchar *prefix = g_strconcat (package, "_", NULL);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, prefix) && g_str_has_suffix (name, ".deb"))
      return g_build_filename (dir, name, NULL);
  return NULL;
}

/* Download (unless present) and unpack (unless done) one package. */
static gboolean
fetch (const char *out_dir, const char *package, Package *pkg, GError **error)
{
  g_autofree gchar *debs = g_build_filename (out_dir, ".debs", NULL);
  g_autofree gchar *src = g_build_filename (out_dir, ".src", NULL);
  if (g_mkdir_with_parents (debs, 0755) != 0 || g_mkdir_with_parents (src, 0755) != 0) {
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "cannot create %s: %s", debs, g_strerror (errno));
    return FALSE;
  }
  pkg->deb = find_deb (debs, package);
  if (pkg->deb == NULL) {
    g_print ("downloading %s with apt-get ...\n", package);
    const char *argv[] = { "apt-get", "download", package, NULL };
    if (!run (argv, debs, NULL, error))
      return FALSE;
    pkg->deb = find_deb (debs, package);
    if (pkg->deb == NULL) {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
          "apt-get download %s left no %s_*.deb in %s", package, package, debs);
      return FALSE;
    }
  }
  const char *fargv[] = { "dpkg-deb", "-f", pkg->deb, "Version", NULL };
  if (!run (fargv, NULL, &pkg->version, error))
    return FALSE;
  g_autofree gchar *base = g_path_get_basename (pkg->deb);
  g_autofree gchar *marker_name = g_strconcat (".unpacked-", base, NULL);
  g_autofree gchar *marker = g_build_filename (src, marker_name, NULL);
  if (!g_file_test (marker, G_FILE_TEST_EXISTS)) {
    g_print ("unpacking %s ...\n", base);
    const char *xargv[] = { "dpkg", "-x", pkg->deb, src, NULL };
    if (!run (xargv, NULL, NULL, error))
      return FALSE;
    if (!g_file_set_contents (marker, "", 0, error))
      return FALSE;
  }
  return TRUE;
}

/* Cut `img` into TILE_W x TILE_H tiles on a centred grid. */
static GPtrArray *
cut_tiles (const EspcnImage *img)
{
  GPtrArray *tiles = g_ptr_array_new_with_free_func ((GDestroyNotify) espcn_image_free);
  int tw = MIN (TILE_W, img->width), th = MIN (TILE_H, img->height);
  int nx = img->width / tw, ny = img->height / th;
  int x0 = (img->width - nx * tw) / 2, y0 = (img->height - ny * th) / 2;
  for (int r = 0; r < ny; r++)
    for (int c = 0; c < nx; c++)
      g_ptr_array_add (tiles, espcn_image_crop (img, x0 + c * tw, y0 + r * th, tw, th));
  return tiles;
}

typedef struct {
  const Source *src;
  gchar *sha256;
  GPtrArray *ids; /* "<class>/<id>" */
  gboolean test;
} Photo;

static gboolean
write_text (const char *path, GString *s, GError **error)
{
  return espcn_write_file_atomic (path, s->str, s->len, error);
}

/* A previous complete run: manifest present and every listed tile there. */
static gboolean
already_complete (const char *out_dir, guint *n_train, guint *n_test, guint *n_photos)
{
  g_autofree gchar *manifest = g_build_filename (out_dir, "manifest.tsv", NULL);
  g_autofree gchar *mtext = NULL;
  if (!g_file_get_contents (manifest, &mtext, NULL, NULL))
    return FALSE;
  *n_photos = 0;
  for (const char *p = mtext; (p = strchr (p, '\n')) != NULL; p++)
    (*n_photos)++;
  if (*n_photos > 0)
    (*n_photos)--; /* header */
  const char *lists[2] = { "train.txt", "test.txt" };
  guint *counts[2] = { n_train, n_test };
  for (int l = 0; l < 2; l++) {
    g_autofree gchar *path = g_build_filename (out_dir, "meta", lists[l], NULL);
    g_autofree gchar *text = NULL;
    if (!g_file_get_contents (path, &text, NULL, NULL))
      return FALSE;
    g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
    *counts[l] = 0;
    for (int i = 0; lines[i]; i++) {
      if (lines[i][0] == '\0')
        continue;
      g_autofree gchar *file = g_strconcat (lines[i], ".jpg", NULL);
      g_autofree gchar *tile = g_build_filename (out_dir, "images", file, NULL);
      GStatBuf st;
      if (g_stat (tile, &st) != 0 || st.st_size == 0)
        return FALSE;
      (*counts[l])++;
    }
  }
  return *n_train >= MIN_TRAIN && *n_test >= MIN_TEST;
}

int
main (int argc, char **argv)
{
  if (argc != 2 || argv[1][0] == '-') {
    g_printerr ("usage: %s OUT_DIR\n"
        "Builds a Food-101-shaped set of real photographs (from Debian's\n"
        "plasma-workspace-wallpapers and opencv-doc packages) in OUT_DIR.\n", argv[0]);
    return 2;
  }
  const char *out_dir = argv[1];
  gint64 t0 = g_get_monotonic_time ();
  guint n_train = 0, n_test = 0, n_photos = 0;
  if (already_complete (out_dir, &n_train, &n_test, &n_photos)) {
    g_print ("%s is complete: %u photos, %u train tiles, %u test tiles (verified)\n",
        out_dir, n_photos, n_train, n_test);
    return 0;
  }

  g_autoptr (GError) error = NULL;
  Package pkgs[G_N_ELEMENTS (packages)];
  memset (pkgs, 0, sizeof pkgs);
  for (gsize i = 0; i < G_N_ELEMENTS (packages); i++)
    if (!fetch (out_dir, packages[i], &pkgs[i], &error)) {
      g_printerr ("espcn-sample-data: %s\n", error->message);
      return 1;
    }

  g_autofree gchar *src_root = g_build_filename (out_dir, ".src", NULL);
  gsize n_src = G_N_ELEMENTS (sources);
  Photo *photos = g_new0 (Photo, n_src);
  guint total = 0;
  for (gsize i = 0; i < n_src; i++) {
    const Source *s = &sources[i];
    Photo *ph = &photos[i];
    ph->src = s;
    ph->ids = g_ptr_array_new_with_free_func (g_free);
    g_autofree gchar *path = g_build_filename (src_root, s->path, NULL);
    g_autofree gchar *bytes = NULL;
    gsize len = 0;
    if (!g_file_get_contents (path, &bytes, &len, &error)) {
      g_printerr ("espcn-sample-data: source photo missing from %s: %s\n", s->package,
          error->message);
      return 1;
    }
    ph->sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guint8 *) bytes, len);
    g_autoptr (EspcnImage) img = espcn_image_load_from_data ((const guint8 *) bytes, len,
        path, &error);
    if (img == NULL) {
      g_printerr ("espcn-sample-data: %s\n", error->message);
      return 1;
    }
    g_autofree gchar *cls_dir = g_build_filename (out_dir, "images", s->class_name, NULL);
    if (g_mkdir_with_parents (cls_dir, 0755) != 0) {
      g_printerr ("espcn-sample-data: cannot create %s: %s\n", cls_dir, g_strerror (errno));
      return 1;
    }
    for (int level = 0; level < (s->half_too ? 2 : 1); level++) {
      g_autoptr (EspcnImage) half = level ? espcn_imresize (img, img->width / 2,
          img->height / 2) : NULL;
      g_autoptr (GPtrArray) tiles = cut_tiles (level ? half : img);
      for (guint t = 0; t < tiles->len; t++) {
        g_autofree gchar *id = g_strdup_printf ("%s_%02u", level ? "half" : "full", t);
        g_autofree gchar *file = g_strconcat (id, ".jpg", NULL);
        g_autofree gchar *tile_path = g_build_filename (cls_dir, file, NULL);
        if (!espcn_image_save_jpeg (g_ptr_array_index (tiles, t), tile_path, 95, &error)) {
          g_printerr ("espcn-sample-data: %s\n", error->message);
          return 1;
        }
        g_ptr_array_add (ph->ids, g_strdup_printf ("%s/%s", s->class_name, id));
      }
    }
    total += ph->ids->len;
  }

  /* Whole photos to test in a seeded order. */
  guint target = MAX (MIN_TEST, (total + 4) / 5);
  guint32 *order = g_new (guint32, n_src);
  for (gsize i = 0; i < n_src; i++)
    order[i] = (guint32) i;
  EspcnRng rng;
  espcn_rng_seed (&rng, SPLIT_SEED);
  espcn_rng_shuffle_u32 (&rng, order, n_src);
  n_test = 0;
  for (gsize k = 0; k < n_src && n_test < target; k++) {
    Photo *ph = &photos[order[k]];
    if (total - n_test - ph->ids->len >= MIN_TRAIN) {
      ph->test = TRUE;
      n_test += ph->ids->len;
    }
  }
  g_free (order);
  n_train = total - n_test;
  if (n_test < MIN_TEST || n_train < MIN_TRAIN) {
    g_printerr ("espcn-sample-data: only %u train / %u test tiles (need %d / %d)\n",
        n_train, n_test, MIN_TRAIN, MIN_TEST);
    return 1;
  }

  GString *train = g_string_new (NULL), *test = g_string_new (NULL);
  GString *manifest = g_string_new ("package\tversion\tpath\tsha256\ttiles\tsplit\n");
  for (gsize i = 0; i < n_src; i++) {
    Photo *ph = &photos[i];
    for (guint t = 0; t < ph->ids->len; t++)
      g_string_append_printf (ph->test ? test : train, "%s\n",
          (const char *) g_ptr_array_index (ph->ids, t));
    const char *version = NULL;
    for (gsize p = 0; p < G_N_ELEMENTS (packages); p++)
      if (strcmp (packages[p], ph->src->package) == 0)
        version = pkgs[p].version;
    g_string_append_printf (manifest, "%s\t%s\t%s\t%s\t%u\t%s\n", ph->src->package, version,
        ph->src->path, ph->sha256, ph->ids->len, ph->test ? "test" : "train");
  }
  g_autofree gchar *meta = g_build_filename (out_dir, "meta", NULL);
  g_autofree gchar *train_path = g_build_filename (meta, "train.txt", NULL);
  g_autofree gchar *test_path = g_build_filename (meta, "test.txt", NULL);
  g_autofree gchar *manifest_path = g_build_filename (out_dir, "manifest.tsv", NULL);
  if (g_mkdir_with_parents (meta, 0755) != 0 || !write_text (train_path, train, &error)
      || !write_text (test_path, test, &error)
      || !write_text (manifest_path, manifest, &error)) {
    g_printerr ("espcn-sample-data: %s\n", error ? error->message : g_strerror (errno));
    return 1;
  }
  g_print ("%s: %zu photos, %u tiles: %u train, %u test (%.1f s)\n", out_dir, n_src, total,
      n_train, n_test, (g_get_monotonic_time () - t0) / 1e6);

  for (gsize i = 0; i < n_src; i++) {
    g_free (photos[i].sha256);
    g_ptr_array_unref (photos[i].ids);
  }
  g_free (photos);
  for (gsize p = 0; p < G_N_ELEMENTS (packages); p++) {
    g_free (pkgs[p].deb);
    g_free (pkgs[p].version);
  }
  g_string_free (train, TRUE);
  g_string_free (test, TRUE);
  g_string_free (manifest, TRUE);
  return 0;
}
