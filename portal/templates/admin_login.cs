<?cs # admin_login.cs - the lab user's login: login, password and the
     six-digit code of the authenticator app. Works without JavaScript. ?><div class="admin">
<h1>Lab login</h1>
<?cs if:Page.Error ?><div class="error" role="alert" id="login-error"><?cs var:Page.Error ?></div>
<?cs /if ?><form class="admin-login" method="post" action="/admin/login" autocomplete="off">
<input type="hidden" name="csrf" value="<?cs var:Admin.Csrf ?>">
<label for="login">Login</label>
<input id="login" name="login" type="text" required maxlength="64" autocomplete="username" spellcheck="false"<?cs if:Page.Error ?> aria-describedby="login-error"<?cs /if ?>>
<label for="password">Password</label>
<input id="password" name="password" type="password" required maxlength="256" autocomplete="current-password">
<label for="code">Code from your authenticator app</label>
<input id="code" name="code" type="text" required inputmode="numeric" pattern="[0-9]{6,8}" maxlength="8" autocomplete="one-time-code">
<button type="submit">Log in</button>
</form>
<p class="help">After several wrong attempts the account is locked for a while. Ask your administrator (sealmailctl user reset) if you lost your authenticator.</p>
</div>
